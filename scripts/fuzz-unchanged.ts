// Proof that a change leaves fuzzing as it was: the cases a campaign generates (every descriptor and
// request) and the campaign summaries against the live kexec-tools 2.0.25 oracles (every class
// count, signature and registry count; timings removed), as sha256 digests of this checkout against
// a baseline commit, per target and seed. engine-unchanged.ts compares the model's outcomes; this
// compares the generator and the campaign around it.
//
//   npx tsx scripts/fuzz-unchanged.ts [--base REF] [--cases N] [--seeds 1,2,3] [--targets x86_64,ppc64le] [--no-summaries]
//
// REF defaults to where this branch left main (git merge-base HEAD main); N to 3,000. Both sides
// read this checkout's corpus. The baseline's sources are taken with `git archive` into a temporary
// directory (no worktree is touched). Exit 0 when every digest is identical, 1 otherwise; a missing
// oracle is an error (--no-summaries compares the generated cases only).
import { checkoutBaseline } from './baseline.ts';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as CampaignModule from '../src/fuzz/campaign.ts';
import type * as DescModule from '../src/fuzz/desc.ts';
import type * as RunModule from '../src/fuzz/run.ts';
import type { Arch } from '../src/types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const baseRef = opt('--base') ?? execFileSync('git', ['-C', root, 'merge-base', 'HEAD', 'main'], { encoding: 'utf8' }).trim();
const cases = Number(opt('--cases') ?? 3000);
const seeds = (opt('--seeds') ?? '1,2,3').split(',').map(Number);
const targets = (opt('--targets') ?? 'x86_64,ppc64le').split(',') as Arch[];
const summaries = !args.includes('--no-summaries');
if (!(cases > 0) || !seeds.length || seeds.some((s) => !Number.isInteger(s)) || !targets.length) {
  throw new Error(`fuzz-unchanged: nothing to compare (--cases ${cases}, --seeds ${seeds.join(',')}, --targets ${targets.join(',')})`);
}
process.env.PURGATORY_ORACLE_CACHE ??= '/var/cache/purgatory-oracle';

interface Side {
  campaign: typeof CampaignModule;
  desc: typeof DescModule;
  run: typeof RunModule;
}
const sideAt = async (dir: string): Promise<Side> => {
  const mod = async <T>(rel: string) => (await import(pathToFileURL(join(dir, 'src', rel)).href)) as T;
  return { campaign: await mod('fuzz/campaign.ts'), desc: await mod('fuzz/desc.ts'), run: await mod('fuzz/run.ts') };
};

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
const TIMINGS = new Set(['fuzzMs', 'minimizeMs', 'casesPerSec', 'tsMaxMs', 'wallMs', 'tsSlow', 'ms']);

/** Digest per (what, target, seed) of one side. */
async function digests(s: Side): Promise<Map<string, string>> {
  s.desc.setCorpusRoot(root);
  const out = new Map<string, string>();
  for (const target of targets) {
    for (const seed of seeds) {
      const h = createHash('sha256');
      for (let k = 0; k < cases; k++) {
        const d = s.campaign.caseFor(seed, k, s.desc.FUZZ_MODES, target, root);
        h.update(json(d));
        try {
          const r = s.desc.requestOf(d);
          h.update(r.elf);
          h.update(`|${r.base}|${r.fill}|${json(r.symbols)}`);
        } catch (e) {
          h.update(`generation error ${(e as Error).message}`);
        }
      }
      out.set(`cases ${target} seed ${seed}`, h.digest('hex'));
      if (!summaries) continue;
      const sum = await s.run.runFuzz({ oracles: [`kexec-tools-2.0.25/${target}`], seed, cases, minimize: false, out: null, progress: 'none', root },
        { out: () => {}, err: (m: string) => process.stderr.write(m) });
      const c = sum.campaigns[0];
      if (!c || c.cases !== cases) throw new Error(`fuzz-unchanged: the ${target} campaign ran ${c?.cases ?? 0} of ${cases} cases (is its oracle built?)`);
      out.set(`summary ${target} seed ${seed}`, createHash('sha256').update(JSON.stringify(sum, (k, v) => (TIMINGS.has(k) ? undefined : v))).digest('hex'));
    }
  }
  return out;
}

const baseline = checkoutBaseline(root, baseRef, 'fuzz-unchanged');
const baseDir = baseline.dir;
const sha = baseline.sha;
let differ = 0;
try {
  console.log(`baseline ${sha.slice(0, 12)} vs this checkout: ${cases} cases × seeds ${seeds.join(',')} × ${targets.join(', ')}${summaries ? ', with campaign summaries' : ''}`);
  const base = await digests(await sideAt(baseDir));
  const head = await digests(await sideAt(root));
  for (const [key, d] of head) {
    const same = base.get(key) === d;
    if (!same) differ++;
    console.log(`${same ? 'same   ' : 'DIFFERS'} ${key}: ${base.get(key)?.slice(0, 16)} → ${d.slice(0, 16)}`);
  }
  console.log(`${head.size} digests compared, ${differ} differ`);
} finally {
  baseline.remove();
}
process.exitCode = differ ? 1 : 0;
