// The coverage corpus generator: every spec (spec-<arch>.ts, spec-layout.ts) built
// into its object with the ELF writer. Pure and deterministic: the same specs give the same bytes,
// which scripts/corpus/verify.ts checks against the committed files.
import { buildObject } from '../../elf/writer.ts';
import { layoutSpecs } from './spec-layout.ts';
import { ppc64Specs } from './spec-ppc64.ts';
import { idOf, type CoverageSpec } from './spec.ts';
import { x86_64Specs } from './spec-x86_64.ts';
import { arm64Specs } from './spec-arm64.ts';
import { s390xSpecs } from './spec-s390x.ts';
import { riscv64Specs } from './spec-riscv64.ts';
import { kernelSpecs } from './spec-kernel.ts';

export { idOf, type CoverageSpec } from './spec.ts';

export const GENERATOR = 'src/corpus/coverage/generate.ts';

/**
 * The validate bases of every coverage object (names from src/validate/cases.ts BASES). The objects
 * do not depend on the base (SHN_ABS values, PC- and TOC-relative values inside the image), so two
 * bases do: above 4 GiB (truncations to 32 bits show) and unaligned (the base alignment shows); the
 * non-zero-fill case runs at the first. Fewer cases keep validate of stored references under 2 s.
 */
export const COVERAGE_BASES = ['unaligned', 'high'] as const;

/** Every coverage spec, in a fixed order, ids unique. */
export function coverageSpecs(): CoverageSpec[] {
  const all = [
    ...x86_64Specs, ...layoutSpecs('x86_64'), ...kernelSpecs,
    ...ppc64Specs('ppc64'), ...layoutSpecs('ppc64'),
    ...ppc64Specs('ppc64le'), ...layoutSpecs('ppc64le'),
    ...arm64Specs, ...layoutSpecs('arm64'),
    ...s390xSpecs, ...layoutSpecs('s390x'),
    ...riscv64Specs,
  ];
  const seen = new Set<string>();
  for (const s of all) {
    const id = idOf(s);
    if (seen.has(id)) throw new Error(`coverage spec ${id} is declared twice`);
    seen.add(id);
  }
  return all;
}

/** The object a spec declares. */
export function generate(spec: CoverageSpec): Uint8Array {
  return buildObject(spec.object);
}
