// Worker-thread entry of the TS-only robustness runner (src/fuzz/robustness.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { setCorpusRoot } from './desc.ts';
import { workerLoop, type WorkerInput } from './robustness.ts';

const input = workerData as WorkerInput;
setCorpusRoot(input.root);
workerLoop(input, (m) => parentPort!.postMessage(m));
