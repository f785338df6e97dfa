// Worker threads of the fuzzers: compiled (dist/), the entry is plain JS; from source, a bootstrap
// (worker-boot.mjs) registers tsx in the thread first, then loads the entry named in its argv.
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The worker entries of src/fuzz: worker.ts (TS-only robustness), campaign-worker.ts (a job of a differential campaign). */
export type FuzzWorkerEntry = 'worker' | 'campaign-worker';

export function startFuzzWorker(entry: FuzzWorkerEntry, workerData: unknown, options: Omit<WorkerOptions, 'workerData' | 'argv'> = {}): Worker {
  const compiled = import.meta.url.endsWith('.js');
  const file = compiled ? new URL(`./${entry}.js`, import.meta.url) : new URL('./worker-boot.mjs', import.meta.url);
  return new Worker(file, { execArgv: [], ...options, workerData, argv: compiled ? [] : [entry] });
}
