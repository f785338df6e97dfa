// Worker-thread bootstrap: register tsx in this thread, then load the TypeScript worker
// (an --import in the worker's execArgv does not reach its entry module on Node 20).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
