// Shared by the live tests: whether a kexec-tools oracle is built. Without CI=true a missing
// oracle skips (with the reason printed); with CI=true it fails the suite.
import { isOracleUnavailableError, kexecToolsBuildDir, readKexecToolsBuild } from '../src/oracle/registry.ts';
import type { Arch } from '../src/types.ts';

export const CI = process.env.CI === 'true';

export function kexecToolsOracleBuilt(version: string, target: Arch, what: string): boolean {
  try {
    readKexecToolsBuild(kexecToolsBuildDir(version, target), { version, target });
    return true;
  } catch (e) {
    if (!isOracleUnavailableError(e)) throw e;
    if (CI) throw new Error(`${(e as Error).message} (CI builds it with scripts/ci-oracles.sh)`, { cause: e });
    console.warn(`skipping ${what}: ${(e as Error).message}`);
    return false;
  }
}
