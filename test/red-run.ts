// A realistic red run for report tests: validate() on the stored kexec-tools-2.0.32/x86_64
// references of Debian's amd64 purgatory, with the TS engine's R_X86_64_PLT32 writes made 4 less
// (engineOverride). That purgatory has two PLT32 sites (objdump -r: call purgatory, jmp entry64 in
// purgatory_start), so every ok case differs, and at every site the reference is the TS value + 4.
import { load } from '../src/engine.ts';
import { DEFAULT_CORPUS, storedSources, type ReferenceSource } from '../src/validate/validate.ts';
import type { Outcome } from '../src/types.ts';

export const RED_ENTRY = 'debian-kexec-tools-2.0.32-3-amd64';

export function redSources(): ReferenceSource[] {
  return storedSources(DEFAULT_CORPUS, new Set([RED_ENTRY])).filter((s) => s.oracle.version === '2.0.32' && s.oracle.target === 'x86_64');
}

export function plt32MinusFour(req: Parameters<typeof load>[0], opts: Parameters<typeof load>[1]): Outcome {
  const o = load(req, opts);
  if (o.kind !== 'ok') return o;
  const bytes = o.image.bytes.slice();
  const dv = new DataView(bytes.buffer);
  for (const r of o.image.relocations) if (r.typeName === 'R_X86_64_PLT32') dv.setUint32(r.imageOffset, (dv.getUint32(r.imageOffset, true) - 4) >>> 0, true);
  return { ...o, image: { ...o.image, bytes } };
}
