// Write the minimized inputs of docs/findings/ (src/findings/inputs.ts) to corpus/findings/<id>/<name>.ro.
// Usage: npx tsx scripts/findings/write-inputs.ts   (test/findings/inputs.test.ts checks the files are current)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDING_INPUTS } from '../../src/findings/inputs.ts';
import { FINDINGS_INPUTS } from '../../src/findings/findings.ts';

for (const [id, gen] of Object.entries(FINDING_INPUTS)) {
  mkdirSync(join(FINDINGS_INPUTS, id), { recursive: true });
  for (const f of gen()) {
    const p = join(FINDINGS_INPUTS, id, `${f.name}.ro`);
    writeFileSync(p, f.bytes);
    console.log(`${p} (${f.bytes.length} bytes)`);
  }
}
