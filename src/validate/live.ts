// Discovery of built live oracles, opened lazily (a process starts with its first request). By
// default only the released reference oracles (src/oracle/registry.ts isReleasedBuild): the
// kexec-tools versions fetched from Debian and the kernels built from Debian's sources, never the
// sanitizer builds (which are for fuzzing) nor builds of local trees. Those are opened when named.
import { isReleasedBuild, listOracles, type OracleBuild } from '../oracle/registry.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { listKernelOracles, openKernelOracle } from '../oracle/kernel.ts';
import type { LiveOpener, LiveOracle, LiveSelection } from './sources.ts';

/** The builds a selection opens: every released one, or with `all` every one (local builds too); never the sanitizer builds. */
export function selectBuilds(builds: OracleBuild[], sel: LiveSelection = {}): OracleBuild[] {
  return builds.filter((b) => !b.sanitize && (sel.all || isReleasedBuild(b)));
}

export const openLiveOracles: LiveOpener = async (sel) => {
  const out: LiveOracle[] = [];
  const kernels = listKernelOracles();
  for (const b of selectBuilds(await listOracles(), sel)) {
    try {
      if (b.loader === 'kexec-tools') out.push(KexecToolsOracle.fromBuild(b));
      else out.push(openKernelOracle(kernels.find((k) => k.dir === b.dir)!));
    } catch {
      // An emulator that is not installed makes the oracle unavailable; gate reports it as missing.
    }
  }
  return out;
};
