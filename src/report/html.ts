// The HTML report (validate/gate --html PATH): one self-contained file (inline CSS and JS, no
// network fetches) with the run's root causes, each representative's image map (sections as bands,
// relocation sites marked, differing bytes highlighted; the relocation and its instruction on
// hover), and the registry coverage for what the run touched. Built from sections, like the other
// writers, so another section is one more function.
import { hex } from '../bytes.ts';
import { plural, rootCauseCounts, type RootCause } from './root-causes.ts';
import type { ImageMap, MapSite } from './image-map.ts';
import type { SourceCase, ValidateReport } from '../validate/validate.ts';

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d232a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header .verdict{font-size:15px;margin-top:4px}.red{color:#ff8b8b}.green{color:#8be28b}
main{padding:8px 24px 40px;max-width:1200px}
section.cause{background:#fff;border:1px solid #d6dae0;border-left:5px solid #d33;border-radius:6px;margin:16px 0;padding:10px 16px}
section.cause h2{font-size:16px;margin:4px 0}.counts{color:#555}
pre{background:#f0f2f5;padding:8px;overflow:auto;font:12px/1.35 ui-monospace,monospace;margin:6px 0}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #d6dae0;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#eef0f3}
.map svg{display:block;margin:6px 0}.band{fill:#dfe6ee;stroke:#9aa8b8}.band.exec{fill:#cfe0f5}
.site{fill:#5a7fa8}.site.differs{fill:#d33}.diff{fill:#ffb3b3}.site:hover{fill:#f90}
.label{font:11px ui-monospace,monospace;fill:#333}
#tip{position:fixed;display:none;background:#1d232a;color:#fff;padding:6px 8px;border-radius:4px;font:12px/1.4 ui-monospace,monospace;white-space:pre;pointer-events:none;z-index:10;max-width:90vw}
details{margin:6px 0}summary{cursor:pointer}
`;

const JS = `
(function(){
  var tip=document.getElementById('tip');
  document.addEventListener('mouseover',function(e){
    var t=e.target.closest?e.target.closest('[data-tip]'):null;
    if(!t){tip.style.display='none';return;}
    tip.textContent=t.getAttribute('data-tip');tip.style.display='block';
  });
  document.addEventListener('mousemove',function(e){
    if(tip.style.display==='block'){tip.style.left=Math.min(e.clientX+12,window.innerWidth-tip.offsetWidth-4)+'px';tip.style.top=(e.clientY+14)+'px';}
  });
})();
`;


function siteTip(m: ImageMap, s: MapSite): string {
  const add = s.addend ? ` ${s.addend < 0n ? '−' : '+'} ${hex(s.addend < 0n ? -s.addend : s.addend)}` : '';
  const lines = [`${s.type} against '${s.symbol}'${add}`, `at ${hex(m.base + BigInt(s.offset))}${s.where ? ` (${s.where})` : ''}, ${s.width} byte(s)`];
  if (s.differs) {
    lines.push(`ts-engine: ${s.ts}${s.insnTs ? `   ${s.insnTs}` : ''}`, `reference: ${s.ref}${s.insnRef ? `   ${s.insnRef}` : ''}`);
  } else lines.push(`both: ${s.ts}${s.insnTs ? `   ${s.insnTs}` : ''}`);
  return lines.join('\n');
}

interface Band {
  name: string;
  start: number;
  end: number;
  exec: boolean;
  cls: string;
}

/**
 * One band per section with contents, each scaled to its own size, and a zoomed band around the
 * first differing bytes (where neighbouring sites would otherwise overlap); sites as ticks,
 * differing bytes behind them.
 */
export function imageMapSvg(m: ImageMap): string {
  const W = 860, LABEL = 250, ROW = 34;
  const bands: Band[] = m.sections.filter((s) => s.end > s.start).map((s) => ({ ...s, cls: 'section' }));
  const first = m.diffs[0];
  const sec = first && m.sections.find((s) => first.start >= s.start && first.start < s.end);
  if (first && sec) {
    const start = Math.max(sec.start, first.start - 96);
    bands.push({ name: `zoom ${sec.name}`, start, end: Math.min(sec.end, start + 256), exec: sec.exec, cls: 'zoom' });
  }
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${LABEL + W + 10}" height="${bands.length * ROW + 6}" role="img" aria-label="image map">`];
  bands.forEach((band, i) => {
    const y = 4 + i * ROW;
    const size = band.end - band.start;
    const x = (off: number) => LABEL + ((off - band.start) / size) * W;
    out.push(`<g class="${band.cls}"><text class="label" x="0" y="${y + 16}">${esc(band.name)} ${hex(m.base + BigInt(band.start))} +${hex(size)}</text>`);
    out.push(`<rect class="band${band.exec ? ' exec' : ''}" x="${LABEL}" y="${y}" width="${W}" height="24" data-tip="${esc(`${band.name}: ${hex(m.base + BigInt(band.start))}..${hex(m.base + BigInt(band.end))}${band.exec ? ' (executable)' : ''}`)}"/>`);
    for (const d of m.diffs) {
      if (d.end <= band.start || d.start >= band.end) continue;
      const a = Math.max(d.start, band.start), b = Math.min(d.end, band.end);
      out.push(`<rect class="diff" x="${x(a).toFixed(1)}" y="${y - 3}" width="${Math.max(3, x(b) - x(a)).toFixed(1)}" height="30" data-tip="${esc(`bytes ${hex(m.base + BigInt(a))}..${hex(m.base + BigInt(b))} differ`)}"/>`);
    }
    // Matching sites first, differing ones on top.
    const sites = m.sites.filter((s) => s.offset >= band.start && s.offset < band.end).sort((a, b) => Number(a.differs) - Number(b.differs));
    for (const s of sites) {
      const w = Math.max(2, x(Math.min(band.end, s.offset + s.width)) - x(s.offset) - (band.cls === 'zoom' ? 1 : 0));
      out.push(`<rect class="site${s.differs ? ' differs' : ''}" x="${x(s.offset).toFixed(1)}" y="${y + (s.differs ? 0 : 6)}" width="${w.toFixed(1)}" height="${s.differs ? 24 : 12}" data-offset="${s.offset}" data-tip="${esc(siteTip(m, s))}"/>`);
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return out.join('');
}

function htmlHeader(r: ValidateReport): string {
  const total = r.sources.reduce((n, s) => n + s.cases, 0);
  const verdict = r.unexplained
    ? `<span class="red">${plural(r.unexplained, 'unexplained case')} in ${plural(r.rootCauses.length, 'root cause')}</span>`
    : `<span class="green">parity: no unexplained difference</span>`;
  return `<header><h1>purgatory-oracle parity</h1><div class="verdict">${verdict} · ${plural(total, 'case')} · ${plural(r.sources.length, 'reference')} · ${(r.wallMs / 1000).toFixed(2)} s</div></header>`;
}

function htmlSources(r: ValidateReport): string {
  const head = ['reference', 'mode', 'cases', 'match', 'both rejected', 'differ', 'explained', 'unexplained'];
  const rows = r.sources.map((s) => [s.oracle, s.mode, s.cases, s.byClass.match ?? 0, s.byClass['both-rejected'] ?? 0, s.cases - (s.byClass.match ?? 0) - (s.byClass['both-rejected'] ?? 0), s.explained, s.unexplained]);
  return `<h2>References</h2><table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.map((row) => `<tr>${row.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>`
    + r.missing.map((m) => `<p class="red"><b>missing oracle:</b> ${esc(m)}</p>`).join('');
}

function htmlCause(g: RootCause<SourceCase>): string {
  const rep = g.representative;
  const cases = g.cases.map((c) => `${c.entry} ${c.caseId} (base ${hex(c.base)})`).join('\n');
  return `<section class="cause" id="${g.id}"><h2>${esc(g.id)} · ${esc(g.oracle)} · ${esc(g.cls)}</h2>`
    + `<div class="title">${esc(g.title)}</div>`
    + `<div class="counts">${rootCauseCounts(g)}</div>`
    + `<pre>${esc(g.reproduce.map((c) => `$ ${c}`).join('\n'))}</pre>`
    + `<details><summary>cases (${g.cases.length})</summary><pre>${esc(cases)}</pre></details>`
    + `<h3>Representative: ${esc(`${rep.entry} ${rep.caseId}`)}</h3>`
    + (rep.map ? `<div class="map">${imageMapSvg(rep.map)}</div>` : '')
    + (rep.report ? `<pre>${esc(rep.report)}</pre>` : '')
    + '</section>';
}

function htmlRegistry(r: ValidateReport): string {
  if (!r.registry.length) return '';
  return '<h2>Known divergences in scope for this run</h2><table><tr><th>entry</th><th>cases covered</th><th>bytes</th><th>in unexplained cases</th><th>stale</th></tr>'
    + r.registry.map((e) => `<tr><td>${esc(e.id)}</td><td>${e.cases}</td><td>${e.bytes}</td><td>${e.unexplainedCases}</td><td>${e.stale ? 'stale' : ''}</td></tr>`).join('')
    + '</table>';
}

/** The report as one HTML page. `extra`: further sections (HTML) appended before the registry. */
export function formatHtml(r: ValidateReport, extra: string[] = []): string {
  const body = [
    htmlHeader(r),
    '<main>',
    htmlSources(r),
    r.rootCauses.length ? `<h2>Root causes</h2>${r.rootCauses.map(htmlCause).join('')}` : '',
    ...extra,
    htmlRegistry(r),
    '</main><div id="tip"></div>',
  ].join('\n');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`
    + `<title>purgatory-oracle: ${r.unexplained ? `${r.unexplained} unexplained` : 'parity'}</title><style>${CSS}</style></head>\n<body>\n${body}\n<script>${JS}</script>\n</body></html>\n`;
}
