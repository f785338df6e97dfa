// Discovery of built live oracles: every kexec-tools build in the cache (not the sanitizer ones,
// which are for fuzzing) and every kernel build, opened lazily (a process starts with its first
// request).
import { listKexecToolsOracles } from '../oracle/registry.ts';
import { KexecToolsOracle } from '../oracle/kexec-tools.ts';
import { listKernelOracles, openKernelOracle } from '../oracle/kernel.ts';
import type { LiveOpener, LiveOracle } from './sources.ts';

export const openLiveOracles: LiveOpener = async () => {
  const out: LiveOracle[] = [];
  for (const b of listKexecToolsOracles()) {
    if (b.sanitize) continue;
    try {
      out.push(KexecToolsOracle.fromBuild(b));
    } catch {
      // An emulator that is not installed makes the oracle unavailable; gate reports it as missing.
    }
  }
  for (const b of listKernelOracles()) {
    try {
      out.push(openKernelOracle(b));
    } catch {
      // as above
    }
  }
  return out;
};
