// Worker-thread entry of one job of a parallel differential campaign (src/fuzz/parallel.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runCampaignJob, type CampaignJobInput } from './parallel.ts';

await runCampaignJob(workerData as CampaignJobInput, (m) => parentPort!.postMessage(m));
