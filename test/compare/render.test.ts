// The instruction that contains a relocation site, on real corpus purgatories, against objdump.
// Expected lines come from GNU objdump 2.40 (binutils, Debian 12) run on the image the TS engine
// relocated (`purgatory-oracle relocate FILE --base B --profile kexec-tools-2.0.32 [--target T] -o
// img.bin`), disassembled as a flat binary at the load base:
//   objdump -D -b binary -m i386:x86-64 --adjust-vma=0x100000 --start-address=S --stop-address=E img.bin
//   powerpc64-linux-gnu-objdump -D -b binary -m powerpc:common64 -EB --adjust-vma=0x10000000 …
//   powerpc64le-linux-gnu-objdump -D -b binary -m powerpc:common64 -EL --adjust-vma=0x10000000 …
// Symbol values are from `objdump -t` of the same .ro files.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from '../../src/engine.ts';
import { capstone, instructionAt, renderComparison, renderContextOf } from '../../src/compare/render.ts';
import { compareOutcomes } from '../../src/compare/compare.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';
import type { Arch, Outcome } from '../../src/types.ts';

function loaded(entry: string, target: Arch, base: bigint) {
  const elf = new Uint8Array(readFileSync(join(DEFAULT_CORPUS, 'elf', `${entry}.ro`)));
  const o = load({ elf, base, fill: 0, symbols: [] }, { profile: 'kexec-tools-2.0.32', target });
  if (o.kind !== 'ok') throw new Error(`${entry}: ${o.kind}`);
  return { elf, o, ctx: renderContextOf(target, elf, o, o.image.bytes) };
}
const hexBytes = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

// Debian's amd64 kexec-tools 2.0.32 purgatory: .text holds 16-bit code and the entry16_regs /
// entry16_debug_regs data blocks (objdump -d prints `(bad)` from 0x820 on), then 64-bit functions.
const AMD64 = 'debian-kexec-tools-2.0.32-3-amd64';

describe('instructionAt on real purgatories (expected: objdump of the relocated image)', () => {
  it('precondition: decoding .text from its start stops at data before the later functions', async () => {
    const { o } = loaded(AMD64, 'x86_64', 0x100000n);
    const cs = (await capstone())!;
    const d = new cs.Capstone(cs.ARCH_X86, cs.MODE_64);
    const insns = d.disasm(o.image.bytes.subarray(0, 0x1000), 0);
    d.close();
    const last = insns[insns.length - 1]!;
    // The decode from the section start never reaches crashdump_backup_memory (0xc13).
    expect(Number(last.address) + last.size).toBeLessThan(0xc13);
  });

  it.each([
    // site, objdump line, expected text
    [0x6b9, '1006b8:\te8 6b fa ff ff       \tcall   0x100128', 0x6b8, 'e8 6b fa ff ff', 'call purgatory'], // purgatory = 0x128
    [0x6be, '1006bd:\te9 2e ff ff ff       \tjmp    0x1005f0', 0x6bd, 'e9 2e ff ff ff', 'jmp entry64'], // entry64 = 0x5f0
    [0xc15, '100c13:\t48 b8 70 70 10 00 00 \tmovabs $0x107070,%rax', 0xc13, '48 b8 70 70 10 00 00 00 00 00', 'movabs rax, 0x107070'],
  ])('x86_64 site %s is inside `%s`', async (site, _objdump, offset, bytes, text) => {
    const { o, ctx } = loaded(AMD64, 'x86_64', 0x100000n);
    const i = (await instructionAt(ctx, o.image.bytes, site))!;
    expect([i.offset, hexBytes(i.bytes), i.text]).toEqual([offset, bytes, text]);
  });

  it('without symbols, skip-data decoding from the section start still lands on the instruction (100c13 movabs)', async () => {
    const { o, ctx } = loaded(AMD64, 'x86_64', 0x100000n);
    const i = (await instructionAt({ ...ctx, symbols: [] }, o.image.bytes, 0xc15))!;
    expect([i.offset, i.size, i.text]).toEqual([0xc13, 10, 'movabs rax, 0x107070']);
  });

  it('a call written 4 short names its target from the symbol after it: call purgatory-0x4', async () => {
    const { o, ctx } = loaded(AMD64, 'x86_64', 0x100000n);
    const img = o.image.bytes.slice();
    img[0x6b9] = 0x67; // rel32 0xfffffa6b − 4: target 0x1006bd − 0x599 = 0x100124, inside verify_sha256_digest (0..0x128)
    const i = (await instructionAt({ ...ctx, refImage: img }, img, 0x6b9))!;
    expect(i.text).toBe('call purgatory-0x4 <verify_sha256_digest+0x124>');
  });

  it.each([
    // ppc64 (ELFv1, big-endian), gcc -O0 build: `10000004: 48 00 09 85  bl 0x10000988`; _savegpr0_28 = 0x988
    ['src-kexec-tools-2.0.32-ppc64-gcc', 'ppc64', 4, '48 00 09 85'],
    // ppc64le (ELFv2), Debian: `1000000c: b9 09 00 48  bl 0x100009c4`; _savegpr0_28 = 0x9c4
    ['debian-kexec-tools-2.0.32-3-ppc64el', 'ppc64le', 0xc, 'b9 09 00 48'],
  ] as const)('%s (%s): the REL24 site at %s is `bl _savegpr0_28`', async (entry, target, site, bytes) => {
    const { o, ctx } = loaded(entry, target, 0x10000000n);
    const i = (await instructionAt(ctx, o.image.bytes, site))!;
    expect([i.offset, hexBytes(i.bytes), i.text]).toEqual([site, bytes, 'bl _savegpr0_28']);
  });

  it('renders both sides of a differing relocation with their instructions', async () => {
    const { o, ctx, elf } = loaded(AMD64, 'x86_64', 0x100000n);
    const refImage = o.image.bytes.slice();
    refImage[0x6b9] = 0x67;
    const ref = { kind: 'ok', relAddr: o.image.base, relSize: o.image.memsz, entry: o.image.entry, hostBuf: 0n, shAddr: o.image.sections.map((s) => s.addr), image: refImage } as const;
    const cmp = compareOutcomes(o as Outcome, ref);
    const text = await renderComparison(cmp, renderContextOf('x86_64', elf, o, refImage));
    expect(text).toMatch(/R_X86_64_PLT32 against 'purgatory'/);
    expect(text).toMatch(/reference: 0x1006b8 {2}e8 67 fa ff ff +call purgatory-0x4 <verify_sha256_digest\+0x124>/);
    expect(text).toMatch(/ts-engine: 0x1006b8 {2}e8 6b fa ff ff +call purgatory$/);
    expect(ctx.sections.some((s) => s.exec && s.name === '.text')).toBe(true);
  });
});
