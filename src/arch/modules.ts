// The arch module (relocation classification and bit writers) of every target.
import type { Arch } from '../types.ts';
import type { ArchModule } from './types.ts';
import { x86_64 } from './x86_64.ts';
import { ppc64 } from './ppc64.ts';
import { arm64 } from './arm64.ts';
import { s390x } from './s390x.ts';
import { riscv64 } from './riscv64.ts';

export const ARCH_MODULES: Readonly<Record<Arch, ArchModule>> = {
  x86_64, ppc64, ppc64le: ppc64, arm64, s390x, riscv64,
};
