// Worker-thread bootstrap: register tsx in this thread, then load the TypeScript worker entry named
// by startFuzzWorker (threads.ts) in argv (an --import in the worker's execArgv does not reach its
// entry module on Node 20).
import { register } from 'tsx/esm/api';

const entry = process.argv[2];
if (entry !== 'worker' && entry !== 'campaign-worker') throw new Error(`worker-boot.mjs: unknown worker entry '${entry}'`);
register();
await import(`./${entry}.ts`);
