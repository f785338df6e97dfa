// The HTML report of a red run (test/red-run.ts: PLT32 written 4 less by the TS engine, so at every
// PLT32 site the reference is the TS value + 4), opened in headless Chromium (Debian's chromium
// package, driven with playwright-core): it renders, shows the root cause, shows a relocation and
// its instruction on hover, fetches nothing from the network and logs no console error.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate, type ValidateReport } from '../../src/validate/validate.ts';
import { formatHtml } from '../../src/report/html.ts';
import { formatMarkdown } from '../../src/validate/report.ts';
import { plt32MinusFour, redSources } from '../red-run.ts';

const CHROMIUM = '/usr/bin/chromium';

async function redReport(imageMaps: boolean): Promise<ValidateReport> {
  const sources = redSources();
  expect(sources).toHaveLength(1);
  return validate({ sources, engineOverride: plt32MinusFour, imageMaps });
}

describe('root causes of a red run', () => {
  it('one root cause: R_X86_64_PLT32, reference = ts + 0x4 at every site, every ok case', async () => {
    const r = await redReport(false);
    const ok = r.sources[0]!.byClass.match ?? 0;
    expect(ok).toBe(0);
    expect(r.rootCauses).toHaveLength(1);
    const g = r.rootCauses[0]!;
    expect(g.title).toBe('R_X86_64_PLT32: reference = ts + 0x4; at every R_X86_64_PLT32 site');
    expect(g.cases.length).toBe(r.unexplained);
    expect(g.cases.length).toBe(r.sources[0]!.byClass['mismatch-bytes']);
    // objdump -r: this purgatory has two PLT32 relocations (purgatory_start: call purgatory, jmp entry64).
    expect([g.sites, g.entries]).toEqual([2, 1]);
    // The Markdown summary for one root cause fits on a screen.
    expect(formatMarkdown(r).split('\n').length).toBeLessThanOrEqual(60);
  });
});

describe('--html in headless Chromium', () => {
  it('renders the root cause and the relocation on hover, with no network and no console errors', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
      ctx.skip();
    }
    const html = formatHtml(await redReport(true));
    // Self-contained: nothing is loaded from elsewhere.
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    const dir = mkdtempSync(join(tmpdir(), 'po-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(`file://${file}`);
      await expect.poll(() => page.locator('header .verdict').textContent()).toMatch(/unexplained cases? in 1 root cause/);
      expect(await page.locator('section.cause h2').first().textContent()).toMatch(/^rc1 · kexec-tools-2\.0\.32\/x86_64 · mismatch-bytes$/);
      expect(await page.locator('section.cause .title').first().textContent()).toBe('R_X86_64_PLT32: reference = ts + 0x4; at every R_X86_64_PLT32 site');
      expect(await page.locator('.map svg g.section').count()).toBeGreaterThan(1);
      await page.locator('.zoom .site.differs').first().hover();
      const tip = page.locator('#tip');
      await expect.poll(() => tip.isVisible()).toBe(true);
      const text = (await tip.textContent())!;
      expect(text).toMatch(/^R_X86_64_PLT32 against '(purgatory|entry64)' − 0x4/);
      expect(text).toMatch(/ts-engine: .* call purgatory-0x4|ts-engine: .* jmp entry64-0x4/);
      expect(text).toMatch(/reference: .* (call purgatory|jmp entry64)$/m);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
