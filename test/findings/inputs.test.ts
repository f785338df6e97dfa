// The committed minimized inputs are exactly what our generators build (provenance), and each one
// loads as the target it is named for.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_INPUTS } from '../../src/findings/inputs.ts';
import { FINDINGS_INPUTS } from '../../src/findings/findings.ts';
import { targetOf } from '../../src/engine.ts';

describe.each(Object.entries(FINDING_INPUTS))('%s', (id, gen) => {
  const files = gen();
  it('has inputs, and corpus/findings holds exactly them (regenerate: npx tsx scripts/findings/write-inputs.ts)', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(readdirSync(join(FINDINGS_INPUTS, id)).sort()).toEqual(files.map((f) => `${f.name}.ro`).sort());
    for (const f of files) expect(Buffer.compare(readFileSync(join(FINDINGS_INPUTS, id, `${f.name}.ro`)), f.bytes), f.name).toBe(0);
  });
  it.each(files.map((f) => [f.name, f.bytes] as const))('%s is an object for the target its name starts with', (name, bytes) => {
    expect(targetOf(bytes)).toBe(name.split('-')[0]);
  });
});

it('every finding directory in corpus/findings has a generator', () => {
  expect(readdirSync(FINDINGS_INPUTS).sort()).toEqual(Object.keys(FINDING_INPUTS).sort());
});
