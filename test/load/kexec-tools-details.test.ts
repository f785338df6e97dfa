// The details of a kexec-tools load (FLAG_DETAILS): which symbols a request probes, and the model's
// add_buffer arguments, e_entry and elf_rel_get_symbol results. Expected values are worked out by
// hand from kexec/kexec-elf-rel.c (elf_rel_load, elf_rel_get_symbol) and the callers' windows
// (kexec/arch/x86_64/kexec-bzImage64.c: 0x3000, 0x7fffffff, -1; kexec/arch/ppc64/kexec-elf-ppc64.c:
// 0, ULONG_MAX, 1).
import { describe, expect, it } from 'vitest';
import { EM_PPC64, EM_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_NOBITS, STB_LOCAL, STT_OBJECT } from '../../src/elf/constants.ts';
import { buildObject, type ObjectSpec } from '../../src/elf/writer.ts';
import { load } from '../../src/engine.ts';
import { MISSING_SYMBOL, symbolProbes } from '../../src/load/kexec-tools-details.ts';
import type { LoadDetails } from '../../src/types.ts';

const AX = SHF_ALLOC | SHF_EXECINSTR;
const WA = SHF_ALLOC | SHF_WRITE;
const data = Uint8Array.from({ length: 0x10 }, (_, i) => 0x40 + i);

function object(over: Partial<ObjectSpec> = {}): Uint8Array {
  return buildObject({
    machine: EM_X86_64, endian: 'little', entry: 4n,
    sections: [
      { name: '.text', flags: AX, data: new Uint8Array(0x20).fill(0x90), addralign: 16n },
      { name: '.data', flags: WA, data, addralign: 8n },
      { name: '.bss', type: SHT_NOBITS, flags: WA, size: 4n, addralign: 4n },
    ],
    symbols: [
      { name: 'cfg', section: '.data', value: 2n, size: 8n, type: STT_OBJECT },
      { name: 'buf', section: '.bss', value: 0n, size: 4n, type: STT_OBJECT },
      { name: 'past', section: '.data', value: 0xcn, size: 8n, type: STT_OBJECT }, // 0xc + 8 > 0x10
      { name: 'abs', section: SHN_ABS, value: 0x1234n, size: 8n },
      { name: 'loc', section: '.data', value: 0n, size: 4n, bind: STB_LOCAL, type: STT_OBJECT },
    ],
    ...over,
  });
}

function details(elf: Uint8Array, target: 'x86_64' | 'ppc64le', symbols: { name: string; bytes: Uint8Array }[] = []): LoadDetails {
  const o = load({ elf, base: 0x10_0000n, fill: 0, symbols, probes: symbolProbes(elf) }, { profile: 'kexec-tools-2.0.32', target });
  if (o.kind !== 'ok') throw new Error(`not loaded: ${o.kind === 'rejected' ? o.message : o.kind}`);
  if (!o.image.details) throw new Error('no details');
  return o.image.details;
}

describe('symbolProbes', () => {
  it('every global the C code can read in bounds (and NOBITS ones), the first again with st_size + 1, and an undefined name', () => {
    // past: st_value + st_size beyond .data; abs: SHN_ABS is no section; loc: local
    expect(symbolProbes(object())).toEqual([
      { name: 'cfg', size: 8 }, { name: 'buf', size: 4 }, { name: 'cfg', size: 9 }, { name: MISSING_SYMBOL, size: 8 },
    ]);
  });

  it('a name with one unreadable global definition is not probed; an unreadable ELF gets no probes', () => {
    const dup = object({
      symbols: [
        { name: 'cfg', section: '.data', value: 2n, size: 8n, type: STT_OBJECT },
        { name: 'cfg', section: '.data', value: 0xfn, size: 8n, type: STT_OBJECT },
      ],
    });
    expect(symbolProbes(dup)).toEqual([{ name: MISSING_SYMBOL, size: 8 }]);
    expect(symbolProbes(Uint8Array.from([0x7f, 0x45]))).toEqual([]);
  });

  it('the kernel: SHN_ABS/SHN_UNDEF globals are probed (find_symbol returns NULL, nothing is read), non-ALLOC ones are not', () => {
    // kexec_purgatory_get_set_symbol reads purgatory_buf + sh_offset + st_value: a non-ALLOC section keeps its file offset.
    const elf = object({
      sections: [
        { name: '.text', flags: AX, data: new Uint8Array(0x20).fill(0x90), addralign: 16n },
        { name: '.data', flags: WA, data, addralign: 8n },
        { name: '.bss', type: SHT_NOBITS, flags: WA, size: 4n, addralign: 4n },
        { name: '.note.x', flags: 0n, data, addralign: 4n },
      ],
      symbols: [
        { name: 'cfg', section: '.data', value: 2n, size: 8n, type: STT_OBJECT },
        { name: 'abs', section: SHN_ABS, value: 0x1234n, size: 8n },
        { name: 'note', section: '.note.x', value: 0n, size: 4n, type: STT_OBJECT },
      ],
    });
    expect(symbolProbes(elf, 'kernel')).toEqual([{ name: 'cfg', size: 8 }, { name: 'abs', size: 8 }, { name: 'cfg', size: 9 }, { name: MISSING_SYMBOL, size: 8 }]);
    expect(symbolProbes(elf)).toEqual([{ name: 'cfg', size: 8 }, { name: 'note', size: 4 }, { name: 'cfg', size: 9 }, { name: MISSING_SYMBOL, size: 8 }]);
  });
});

describe('the model\'s details (kexec-tools 2.0.32)', () => {
  it('x86_64: add_buffer(memsz 0x34, align 16, 0x3000, 0x7fffffff, -1); e_entry relocated; the probes as elf_rel_get_symbol answers them', () => {
    const d = details(object(), 'x86_64');
    // bufsz: .text 0x20 + .data 0x10 (align 8) = 0x30; bss_align 4 divides it: bss_pad 0; bsssz 4
    expect(d.memsz).toBe(0x34n);
    expect(d.bufAlign).toBe(16n);
    expect([d.bufMin, d.bufMax, d.bufEnd]).toEqual([0x3000n, 0x7fff_ffffn, -1]);
    // e_entry 4 is in .text (SHF_ALLOC|SHF_EXECINSTR): ehdr->e_entry = 4 + .text's new address
    expect(d.eEntry).toBe(0x10_0000n + 4n);
    expect(d.probes).toEqual([
      { name: 'cfg', ok: true, bytes: data.slice(2, 10) },
      { name: 'buf', ok: false, message: 'Symbol: buf is in a bss section cannot set\n', code: 'symbol-in-bss' },
      { name: 'cfg', ok: false, message: 'Symbol: cfg has size: 8 not 9\n', code: 'symbol-size-mismatch' },
      { name: MISSING_SYMBOL, ok: false, message: `Symbol: ${MISSING_SYMBOL} not found cannot get\n`, code: 'symbol-not-found' },
    ]);
  });

  it('probes read after the symbol writes', () => {
    const w = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(details(object(), 'x86_64', [{ name: 'cfg', bytes: w }]).probes[0]).toEqual({ name: 'cfg', ok: true, bytes: w });
  });

  it('ppc64le: the window (0, ULONG_MAX, 1) is not clamped for ELFCLASS64 (elf_max_addr = ULONG_MAX)', () => {
    const d = details(object({ machine: EM_PPC64, flags: 2 }), 'ppc64le');
    expect([d.bufMin, d.bufMax, d.bufEnd]).toEqual([0n, 0xffff_ffff_ffff_ffffn, 1]);
  });

  it('no probes asked: no details (the fast path may run)', () => {
    const o = load({ elf: object(), base: 0x10_0000n, fill: 0, symbols: [] }, { profile: 'kexec-tools-2.0.32', target: 'x86_64', log: false });
    expect(o.kind === 'ok' && o.image.details).toBe(undefined);
  });
});
