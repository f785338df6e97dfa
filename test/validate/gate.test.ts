// gate/validate through the CLI on the bundled corpus's stored references.
import { describe, expect, it, afterEach } from 'vitest';
import { cpSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import tmp from 'tmp';
import { setLiveOpener } from '../../src/cli.ts';
import { runCli as run } from '../cli-run.ts';
import { DEFAULT_CORPUS } from '../../src/validate/validate.ts';
import { load } from '../../src/engine.ts';
import type { ReferenceFile } from '../../src/validate/references.ts';

afterEach(() => setLiveOpener(undefined));

describe('gate on stored references', () => {
  it('passes (exit 0) on the bundled corpus with stored references only', async () => {
    const r = await run(['gate', '--stored-only', '--allow-missing'], { CI: undefined });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kexec-tools-2\.0\.25\/x86_64\s+stored/);
    expect(r.out).toMatch(/ 0 unexplained/);
  }, 120_000);

  it('exits 2 in CI mode when a required live oracle is unavailable', async () => {
    setLiveOpener(async () => []);
    const r = await run(['gate', '--only', 'debian-kexec-tools-2.0.32-3-amd64'], { CI: 'true' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/required oracle\(s\) unavailable: .*kexec-tools-2\.0\.25\/x86_64/);
  }, 120_000);

  it('exits 1 on a mutated reference and names the culprit relocation (R_X86_64_PC32)', async () => {
    const dir = tmp.dirSync({ unsafeCleanup: true });
    const corpus = join(dir.name, 'corpus');
    cpSync(DEFAULT_CORPUS, corpus, { recursive: true });
    // Mutate one PC32 site in one stored x86_64 image (the reference now disagrees with the TS engine).
    const refPath = join(corpus, 'references', 'kexec-tools-2.0.25.x86_64.json');
    const ref = JSON.parse(readFileSync(refPath, 'utf8')) as ReferenceFile;
    const c = ref.cases.find((x) => x.outcome.kind === 'ok' && x.case === 'low/none/fill00' && x.entry.startsWith('debian-kexec-tools-2.0.25'))!;
    expect(c).toBeDefined();
    const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { entries: { sha256: string; file: string }[] };
    const elfFile = manifest.entries.find((e) => e.sha256 === c.elfSha256)!.file;
    const elf = new Uint8Array(readFileSync(join(dir.name, elfFile)));
    const ts = load({ elf, base: BigInt(c.base), fill: 0, symbols: [] }, { profile: 'kexec-tools-2.0.25' });
    if (ts.kind !== 'ok') throw new Error('expected ok');
    const pc32 = ts.image.relocations.find((r) => r.typeName === 'R_X86_64_PC32')!;
    const oc = c.outcome as { imageSha256: string };
    const blob = join(corpus, 'references', 'blobs', `${oc.imageSha256}.gz`);
    const img = new Uint8Array(gunzipSync(readFileSync(blob)));
    img[pc32.imageOffset] = img[pc32.imageOffset]! ^ 0x01;
    // Stored images are content-addressed: write the mutated one under its own hash.
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(img).digest('hex');
    writeFileSync(join(corpus, 'references', 'blobs', `${sha}.gz`), gzipSync(img));
    oc.imageSha256 = sha;
    writeFileSync(refPath, JSON.stringify(ref));
    // Keep only x86_64 references to make the run quick.
    for (const f of readdirSync(join(corpus, 'references'))) if (f.endsWith('.json') && !f.includes('x86_64')) writeFileSync(join(corpus, 'references', f), JSON.stringify({ ...ref, cases: [] }));
    const junit = join(dir.name, 'junit.xml');
    const r = await run(['gate', corpus, '--stored-only', '--allow-missing', '--junit', junit], { CI: undefined });
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/mismatch-bytes/);
    expect(r.out).toMatch(/R_X86_64_PC32 against '/);
    expect(r.out).toMatch(/1 unexplained case in 1 root cause/);
    // JUnit: testsuites > testsuite > testcase > failure, well formed.
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    expect(checkNesting(xml)).toEqual([]);
    expect(xml).toMatch(/<testsuite [^>]*failures="1"/);
    // One root cause: the mutation turned the reference byte 0xef into 0xee (bit 0 cleared), so at
    // that PC32 site the reference is the TS value minus 1.
    expect(r.out).toMatch(/Root causes \(1 unexplained case in 1 root cause\)/);
    expect(r.out).toMatch(/rc1 {2}kexec-tools-2\.0\.25\/x86_64 mismatch-bytes: R_X86_64_PC32: reference = ts − 0x1; .* 1 case, 1 site, 1 corpus entry, 1 base/);
    expect(r.out).toMatch(/\$ npx purgatory-oracle relocate \S+debian-kexec-tools-2\.0\.25-3_deb12u3-amd64\.ro --base 0x100000 --profile kexec-tools-2\.0\.25 --target x86_64/);
    expect(r.out).toMatch(/\$ npx purgatory-oracle oracle run --oracle kexec-tools-2\.0\.25\/x86_64 \S+\.ro --base 0x100000/);
    expect(xml).toMatch(/<testcase [^>]*>\s*<failure message="mismatch-bytes: R_X86_64_PC32: reference = ts − 0x1/);
    expect(xml).toMatch(/cases \(1\):\n {2}debian-kexec-tools-2\.0\.25-3_deb12u3-amd64 low\/none\/fill00/);
    dir.removeCallback();
  }, 120_000);
});

/** Minimal well-formedness and schema-shape check: tags nest and only the JUnit elements appear. */
function checkNesting(xml: string): string[] {
  const problems: string[] = [];
  const allowed: Record<string, string> = { testsuites: '', testsuite: 'testsuites', testcase: 'testsuite', failure: 'testcase', 'system-out': 'testcase' };
  const stack: string[] = [];
  for (const m of xml.replace(/^<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([a-z-]+)[^>]*?(\/?)>/g)) {
    const [, close, name, self] = m;
    if (!(name! in allowed)) problems.push(`unexpected <${name}>`);
    if (close) {
      if (stack.pop() !== name) problems.push(`mismatched </${name}>`);
    } else {
      if ((stack[stack.length - 1] ?? '') !== allowed[name!]) problems.push(`<${name}> inside <${stack[stack.length - 1] ?? ''}>`);
      if (!self) stack.push(name!);
    }
  }
  if (stack.length) problems.push(`unclosed ${stack.join(',')}`);
  return problems;
}
