// Public API: re-exports only.
export type * from './types.ts';
export { load, targetOf, type EngineOptions } from './engine.ts';
export { ByteView, cAlign, hex } from './bytes.ts';
export {
  PurgatoryOracleError, ElfFormatError, LoadError, UsageError, isPurgatoryOracleError, isLoadError, isElfFormatError,
} from './errors.ts';
export { ElfFile, parseElf, type ElfSymbol, type ElfRelocation, type SectionHeader, type ProgramHeader } from './elf/reader.ts';
export { buildObject, writeElf, type ObjectSpec, type RawElf } from './elf/writer.ts';
export { makeProfile, defaultTarget, PROFILE_IDS, DIVERGENCES, FIXES, type Fix, type Profile, type EntryRule } from './load/profile.ts';
export {
  parseKexecTools, layoutKexecTools, relocateKexecTools, loadKexecTools, setSymbol, getSymbol, getAddr, type Layout,
} from './load/kexec-tools.ts';
export {
  parseKernel, layoutKernel, kernelEntry, relocateKernel, loadKernel, findKernelSymbol, setKernelSymbol,
  KERNEL_MESSAGE_CLASSES, KERNEL_ERRNO, type KernelLayout,
} from './load/kernel.ts';
export { x86_64, R_X86_64 } from './arch/x86_64.ts';
export { ppc64, R_PPC64 } from './arch/ppc64.ts';
export { imageManifest, outcomeJson, type ImageManifest } from './image.ts';
export { inspect, relocationHistogram, type Inspection } from './inspect.ts';
export {
  loadPie, parsePie, layoutPie, relocatePie, classifyPie, findPieSymbol, setPieSymbol, getPieSymbol, getPieAddr, PIE_DYNAMIC,
  type PieLoad, type PieLayout, type PieRelocKind,
} from './load/pie.ts';
export { buildPie, type PieSpec } from './elf/pie-writer.ts';
export {
  census, censusEntry, formatCensusText, formatCensusMarkdown, formatCensusJson, type Census, type CensusEntry, type CensusFile,
} from './pie/census.ts';
export { equivalence, formatEquivalence, type Equivalence, type Verdict } from './pie/equivalence.ts';
