// Discovery of built live oracles. Filled in by the oracle runners (src/oracle/).
import type { LiveOpener } from './sources.ts';

export const openLiveOracles: LiveOpener = async () => [];
