/**
 * The HTML report: one self-contained file (inline CSS, inline SVG, one small inline script
 * for the filters, no network fetches). Everything is visible with scripts off; the script
 * only hides what the filters leave out. Every text from the input goes through escHtml, and
 * a Content-Security-Policy allows nothing but the inline style and this exact script.
 */
import { createHash } from 'node:crypto';
import { escHtml as e } from './escape.js';
import { fmtCheckValue } from './decision.js';
import { ANSWER_LABEL, fmtInt, fmtMs, fmtPct, fmtSignedMs, fmtTime, notComparedLine, servicesLine, VERDICT_LABEL } from './format.js';
import type { CheckWindow, Example, ExampleSide, PathFinding, ReportModel, RouteReport, RouteVerdict, RunSummary, ServedSide, Timeline } from './model.js';
import { SERIES_COLORS, SERIES_DASH, deltaChart, eventColor, latencyChart, timelineChart } from './svg.js';

const CSS = `
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#fff;--soft:#f8fafc;--red:#dc2626;--amber:#d97706;--green:#059669;--blue:#2563eb}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:0}
h2{font-size:18px;margin:28px 0 8px;padding-top:8px;border-top:2px solid var(--line);display:flex;gap:10px;align-items:center}
h3{font-size:15px;margin:18px 0 6px}
h4{font-size:14px;margin:14px 0 6px;font-weight:600}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
header{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:baseline;padding-bottom:8px}
header .meta{color:var(--muted)}
nav{display:flex;flex-wrap:wrap;gap:6px 14px;margin:6px 0 4px}
nav a{color:var(--blue);text-decoration:none}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.v-clean{background:var(--green)}.v-needs-review{background:var(--amber)}.v-failing{background:var(--red)}
.s-open{background:var(--red)}.s-waived{background:#6b7280}.s-noise{background:#9ca3af}
.tag{display:inline-block;padding:0 6px;border:1px solid var(--line);border-radius:8px;font-size:11.5px;color:var(--muted);margin-left:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:130px;background:var(--soft)}
.card b{display:block;font-size:20px}
.card span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:12.5px;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.path{word-break:break-all}
.rate{display:inline-block;width:90px;height:8px;background:#eef2f7;border-radius:4px;position:relative;vertical-align:middle;margin-left:6px}
.rate i{position:absolute;left:0;top:0;bottom:0;border-radius:4px;background:var(--green)}
.rate i.over{background:var(--red)}
.rate u{position:absolute;left:50%;top:-2px;bottom:-2px;width:2px;background:var(--fg)}
.muted{color:var(--muted)}
.reason{color:var(--muted);margin:2px 0 8px}
#filters{position:sticky;top:0;z-index:2;background:#fffffff2;border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:12px 0;display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center}
#filters label{white-space:nowrap}
#filters select{font:inherit;padding:2px 4px}
.ex{border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin:8px 0 12px}
.ex-h{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;color:var(--muted);margin-bottom:6px}
.ex-h b{color:var(--fg);font-weight:600}
table.fields th:nth-child(1){width:28%}table.fields th:nth-child(2){width:10%}table.fields th:nth-child(3),table.fields th:nth-child(4){width:31%}
table.fields td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
td.lv{background:#fef2f2}td.vv{background:#ecfdf5}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.side{min-width:0;border:1px solid var(--line);border-radius:6px;overflow:hidden}
.side-h{background:var(--soft);padding:3px 8px;font-size:12px;border-bottom:1px solid var(--line)}
.side pre{margin:0;padding:6px 0;max-height:340px;overflow:auto;white-space:pre}
.side pre span{display:block;padding:0 8px}
.side.legacy pre span.hl{background:#fee2e2;box-shadow:inset 3px 0 var(--red)}
.side.v2 pre span.hl{background:#dcfce7;box-shadow:inset 3px 0 var(--green)}
.side.legacy .side-h mark{background:#fee2e2;padding:0 3px}.side.v2 .side-h mark{background:#dcfce7;padding:0 3px}
.side pre span.gap{color:var(--muted);font-style:italic;background:var(--soft)}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px;align-items:start}
table.matrix td,table.matrix th{text-align:right;font-variant-numeric:tabular-nums}
table.matrix td.off{background:#fee2e2;font-weight:600}
table.matrix td.zero{color:#cbd5e1}
svg.chart{max-width:100%;height:auto;display:block}
svg .ax{font-size:11px;fill:#6b7280}
svg .lg{font-size:12px;fill:#374151}
svg .val{font-size:11px;fill:#111827}
svg .axis{stroke:#9ca3af}
svg .grid{stroke:#eef2f7}
svg .zero{stroke:#111827;stroke-dasharray:3 3}
svg .evline{stroke-dasharray:2 3;opacity:.6}
svg path.series.dim{opacity:.15}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:4px 0}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px}
tr.ev-abort td{background:#fef2f2}
tr.ev-check-fail td{background:#fff7ed}
.gate{border-radius:8px;padding:8px 12px;margin:6px 0 10px;border:1px solid}
.gate ul{margin:4px 0 0 18px;padding:0}
.gate-failed{background:#fef2f2;border-color:#fecaca}
.gate-passed{background:#ecfdf5;border-color:#a7f3d0}
.first{border:2px solid var(--line);border-radius:10px;padding:12px 16px;margin:8px 0 12px}
.first.a-stop{border-color:#fca5a5;background:#fef2f2}.first.a-review{border-color:#fcd34d;background:#fffbeb}.first.a-go{border-color:#6ee7b7;background:#ecfdf5}
.answer{display:flex;gap:14px;align-items:center;flex-wrap:wrap}
.answer .big{font-size:22px;font-weight:700;padding:4px 14px;border-radius:8px;color:#fff;text-transform:uppercase;letter-spacing:.04em}
.big.a-stop{background:var(--red)}.big.a-review{background:var(--amber)}.big.a-go{background:var(--green)}
.answer .headline{font-size:17px;font-weight:600}
.why{margin:8px 0 6px 20px;padding:0}.why li{margin:2px 0}
table.figs{width:auto;min-width:60%}table.figs td.bad{color:var(--red);font-weight:600}
.runs{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0 0}
.run{border:1px solid var(--line);border-radius:8px;padding:4px 10px;background:#fff;font-size:12.5px}
.o-complete{background:var(--green)}.o-rolled-back,.o-aborted{background:var(--red)}.o-paused{background:var(--amber)}.o-in-progress{background:#6b7280}
.v-no-traffic,.v-not-mirrored{background:#94a3b8}
.rb{border:1px solid #fecaca;background:#fef2f2;border-radius:8px;padding:8px 12px;margin:8px 0}
table.win td,table.win th{font-size:12.5px}
tr.w-fail td{background:#fef2f2}tr.w-inconclusive td{background:#fffbeb}
ol.tl{list-style:none;margin:6px 0;padding:0}
ol.tl li{border-bottom:1px solid var(--line);padding:2px 4px}
ol.tl li.runstart{border-top:2px solid #111827;margin-top:8px;padding-top:4px;font-weight:600;background:var(--soft)}
ol.tl details summary{cursor:pointer;list-style:none;display:flex;gap:10px;align-items:baseline;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
ol.tl details summary::-webkit-details-marker{display:none}
ol.tl .t{color:var(--muted);font-variant-numeric:tabular-nums;min-width:70px}
ol.tl .k{display:inline-block;min-width:92px;font-size:12px;font-weight:600}
ol.tl .s{overflow:hidden;text-overflow:ellipsis}
ol.tl pre{margin:4px 0 6px 80px;white-space:pre-wrap;font-size:12px;color:#374151}
ol.tl li.ev-abort{background:#fef2f2}ol.tl li.ev-check-fail{background:#fff7ed}
svg .runband{fill:#f1f5f9}svg .runband.odd{fill:#e2e8f0}
svg .runline{stroke:#111827;stroke-width:1.5}
svg .runlabel{font-size:11px;fill:#111827;font-weight:600}
footer{margin-top:32px;color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);padding-top:8px}
`;

// Reads only the DOM; carries no data from the report, so its hash is fixed.
const SCRIPT = `(function(){
var f=document.getElementById('filters');if(!f)return;f.hidden=false;
var r=document.getElementById('f-route'),k=document.getElementById('f-kind'),c=f.querySelectorAll('input[name=status]'),n=document.getElementById('f-count');
function on(el,rv,kv,st){return (rv===''||el.getAttribute('data-route')===rv)&&(kv===''||el.getAttribute('data-kind')===kv)&&st[el.getAttribute('data-status')]===true;}
function apply(){var rv=r.value,kv=k.value,st={},shown=0,total=0;
for(var i=0;i<c.length;i++)st[c[i].value]=c[i].checked;
document.querySelectorAll('[data-route-section]').forEach(function(s){s.hidden=rv!==''&&s.getAttribute('data-route-section')!==rv;});
document.querySelectorAll('[data-finding]').forEach(function(el){var ok=on(el,rv,kv,st);el.hidden=!ok;if(el.tagName==='TR'){total++;if(ok)shown++;}});
document.querySelectorAll('[data-event-routes]').forEach(function(el){var rs=el.getAttribute('data-event-routes');el.hidden=rv!==''&&rs!==''&&rs.split('|').indexOf(rv)<0;});
document.querySelectorAll('path.series').forEach(function(p){p.classList.toggle('dim',rv!==''&&p.getAttribute('data-route')!==rv);});
document.querySelectorAll('[data-empty-note]').forEach(function(el){var sec=el.parentNode,any=sec.querySelector('tr[data-finding]:not([hidden])');el.hidden=!!any||!sec.querySelector('tr[data-finding]');});
n.textContent=shown+' of '+total+' paths shown';}
f.addEventListener('change',apply);f.addEventListener('input',apply);f.addEventListener('submit',function(ev){ev.preventDefault();});
apply();})();`;

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');
const CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:; base-uri 'none'; form-action 'none'`;

function verdictBadge(v: RouteVerdict): string {
  return `<span class="badge v-${v}">${e(v === 'not-mirrored' ? 'not mirrored: unsafe method' : VERDICT_LABEL[v])}</span>`;
}

function statusBadge(s: string): string {
  return `<span class="badge s-${e(s)}">${e(s)}</span>`;
}

function anchor(route: string): string {
  return `route-${encodeURIComponent(route).replace(/%/g, '_')}`;
}

function rateBar(rate: number, threshold: number): string {
  const ratio = threshold > 0 ? rate / threshold : rate > 0 ? 2 : 0;
  const width = Math.min(100, ratio * 50);
  return `<span class="rate" title="threshold at the middle mark"><i class="${rate > threshold ? 'over' : ''}" style="width:${width.toFixed(1)}%"></i><u></u></span>`;
}

function head(model: ReportModel): string {
  const t = model.totals;
  const range = model.range.from || model.range.to ? `${fmtTime(model.range.from)} → ${fmtTime(model.range.to)}` : 'no timed data';
  return [
    `<header><h1>cutover report</h1>${verdictBadge(model.verdict)}`,
    `<span class="meta">range ${e(range)}${model.range.since ? ` (since ${e(fmtTime(model.range.since))})` : ''}</span>`,
    `<span class="meta">generated ${e(fmtTime(model.generatedAt))}</span></header>`,
    firstScreen(model),
    `<nav><a href="#summary">routes</a>${model.routes.map((r) => `<a href="#${anchor(r.name)}">${e(r.name)}</a>`).join('')}<a href="#timeline">timeline</a></nav>`,
    `<div class="cards">`,
    card(fmtInt(t.pairs), 'pairs compared'),
    card(fmtInt(t.mismatching), 'pairs with open differences'),
    card(fmtPct(t.mismatchRate), 'mismatch rate'),
    card(fmtInt(t.openPaths), 'open paths'),
    card(fmtInt(t.waivedPaths), 'waived paths'),
    card(fmtInt(t.noisyPaths), 'noisy paths'),
    `</div>`,
    gateBox(model),
  ].join('');
}

/** "Can we go on?": the answer, why, the figures that decided it, and the runs apart. */
function firstScreen(model: ReportModel): string {
  const d = model.decision;
  const figs = d.figures.length
    ? `<table class="figs"><thead><tr><th>route</th><th>measure</th><th class="n">value</th><th class="n">limit</th></tr></thead><tbody>${d.figures
        .map((f) => `<tr><td>${e(f.route ?? 'all')}</td><td>${e(f.label)}</td><td class="n${f.bad ? ' bad' : ''}">${e(f.value)}</td><td class="n">${e(f.limit ?? '-')}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return (
    `<section id="decision" class="first a-${d.answer}"><div class="answer"><span class="big a-${d.answer}" id="answer">${e(ANSWER_LABEL[d.answer])}</span>` +
    `<span class="headline" id="headline">${e(d.headline)}</span></div>` +
    (d.why.length ? `<ul class="why" id="why">${d.why.map((w) => `<li>${e(w)}</li>`).join('')}</ul>` : '') +
    figs +
    (model.runs.length ? `<div class="runs">${model.runs.map(runChip).join('')}</div>` : '') +
    `</section>`
  );
}

const OUTCOME: Record<RunSummary['outcome'], string> = { complete: 'complete', 'rolled-back': 'rolled back', aborted: 'aborted', paused: 'paused', 'in-progress': 'in progress' };

function runChip(r: RunSummary, i: number): string {
  const c = r.checks;
  return (
    `<span class="run" data-run="${e(r.planId)}"><b>run ${i + 1}</b> plan <span class="mono">${e(r.planId)}</span> <span class="badge o-${r.outcome}">${e(OUTCOME[r.outcome])}</span>` +
    `${r.reached ? ` at ${e(r.reached)}` : ''} · ${e(fmtTime(r.from).slice(11))} → ${e(fmtTime(r.to).slice(11))} · checks ${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive</span>`
  );
}

function gateBox(model: ReportModel): string {
  const g = model.gate;
  if (g.maxMismatchRate === null && !g.failOnOpenFindings) return '';
  const asked = [g.maxMismatchRate !== null ? `mismatch rate at most ${fmtPct(g.maxMismatchRate)} per route` : '', g.failOnOpenFindings ? 'no open findings' : '']
    .filter(Boolean)
    .join(' and ');
  return (
    `<div class="gate ${g.failed ? 'gate-failed' : 'gate-passed'}"><b>CI gate ${g.failed ? 'failed' : 'passed'}</b>: ${e(asked)}` +
    (g.failures.length ? `<ul>${g.failures.map((f) => `<li>${e(f)}</li>`).join('')}</ul>` : '') +
    `</div>`
  );
}

function card(value: string, label: string): string {
  return `<div class="card"><b>${e(value)}</b><span>${e(label)}</span></div>`;
}

/** The route's services under its name in the summary, when the config names them. */
function servicesTag(r: RouteReport): string {
  const line = servicesLine(r);
  return line ? `<br><span class="muted">${e(line)}</span>` : '';
}

function summaryTable(model: ReportModel): string {
  const rows = model.routes.map(
    (r) =>
      `<tr data-summary-route="${e(r.name)}"><td><a href="#${anchor(r.name)}">${e(r.name)}</a>${servicesTag(r)}</td><td>${verdictBadge(r.verdict)}${badgeTags(r)}</td>` +
      `<td class="n">${fmtInt(r.traffic.servedLegacy)}</td><td class="n">${fmtInt(r.traffic.servedV2)}</td><td class="n">${fmtInt(r.traffic.mirroredV2)}</td>` +
      `<td class="n">${fmtInt(r.pairs)}</td><td class="n">${fmtInt(r.mismatching)}</td>` +
      `<td class="n">${e(fmtPct(r.mismatchRate))}${rateBar(r.mismatchRate, r.threshold)}</td><td class="n">${e(fmtPct(r.threshold))}</td>` +
      `<td class="n">${fmtInt(r.counts.openPaths)}</td><td class="n">${fmtInt(r.counts.waivedPaths)}</td><td class="n">${fmtInt(r.counts.noisyPaths)}</td></tr>`,
  );
  return (
    `<section id="summary"><h2>Routes</h2>` +
    (model.routes.length === 0
      ? `<p class="muted">No verified pairs in this range.</p>`
      : `<table><thead><tr><th>route</th><th>verdict</th><th class="n">served by legacy</th><th class="n">served by V2</th><th class="n">mirrored to V2</th>` +
        `<th class="n">pairs</th><th class="n">mismatching</th><th class="n">mismatch rate</th><th class="n">threshold</th>` +
        `<th class="n">open paths</th><th class="n">waived</th><th class="n">noise</th></tr></thead><tbody>${rows.join('')}</tbody></table>`) +
    `</section>`
  );
}

function badgeTags(r: RouteReport): string {
  return r.badges.filter((b) => !b.startsWith(VERDICT_LABEL[r.verdict])).map((b) => `<span class="tag">${e(b)}</span>`).join('');
}

function filters(model: ReportModel): string {
  const kinds = [...new Set(model.routes.flatMap((r) => r.paths.map((p) => p.kind)))].sort();
  return (
    `<form id="filters" hidden><b>Filter</b>` +
    `<label>route <select id="f-route"><option value="">all routes</option>${model.routes.map((r) => `<option value="${e(r.name)}">${e(r.name)}</option>`).join('')}</select></label>` +
    `<label>kind <select id="f-kind"><option value="">all kinds</option>${kinds.map((k) => `<option value="${e(k)}">${e(k)}</option>`).join('')}</select></label>` +
    ['open', 'waived', 'noise'].map((s) => `<label><input type="checkbox" name="status" value="${s}" checked> ${s}</label>`).join('') +
    `<span id="f-count" class="muted"></span></form>`
  );
}

function findingAttrs(route: string, p: PathFinding): string {
  return `data-finding data-route="${e(route)}" data-kind="${e(p.kind)}" data-status="${e(p.status)}"`;
}

function findingsTable(r: RouteReport): string {
  if (r.paths.length === 0 && r.otherPaths.paths === 0) return `<p class="muted">No differing paths.</p>`;
  const rows = r.paths.map((p, i) => {
    const tags = [
      p.suspectedVolatile ? `<span class="tag" title="values look like ids or clocks">suspected volatile</span>` : '',
      p.waiver ? `<span class="tag" title="${e(`waiver ${p.waiver.id} by ${p.waiver.author}, expires ${p.waiver.expiresAt}`)}">waived: ${e(p.waiver.reason)}</span>` : '',
    ].join('');
    const kinds = Object.entries(p.kinds)
      .map(([k, n]) => `${k} ${fmtInt(n)}`)
      .join(', ');
    const replica = p.replica ? `${fmtInt(p.replica.legacyVsReplica)} / ${fmtInt(p.replica.pairs)}` : '-';
    return (
      `<tr ${findingAttrs(r.name, p)}><td class="n">${i + 1}</td><td class="path"><code>${e(p.path)}</code></td><td title="${e(kinds)}">${e(p.kind)}</td><td>${statusBadge(p.status)}${tags}</td>` +
      `<td class="n">${fmtInt(p.count)}</td><td class="n">${e(fmtPct(p.rate))}</td><td class="n">${fmtInt(p.openCount)}</td><td class="n">${fmtInt(p.waivedCount)}</td>` +
      `<td class="n">${fmtInt(p.noiseCount)}</td><td class="n" title="pairs where legacy and its replica differed here / pairs with a replica answer">${replica}</td>` +
      `<td class="n">${e(fmtTime(p.firstSeen))}</td><td class="n">${e(fmtTime(p.lastSeen))}</td></tr>`
    );
  });
  const other =
    r.otherPaths.paths > 0
      ? `<tr><td></td><td colspan="3" class="muted">${fmtInt(r.otherPaths.paths)} more paths not listed one by one</td><td class="n">${fmtInt(r.otherPaths.count)}</td><td colspan="7"></td></tr>`
      : '';
  return (
    `<div><table class="findings"><thead><tr><th class="n">#</th><th>templated path</th><th>kind</th><th>status</th><th class="n">pairs</th><th class="n">rate</th>` +
    `<th class="n">open</th><th class="n">waived</th><th class="n">noise</th><th class="n">legacy vs replica</th><th class="n">first seen</th><th class="n">last seen</th></tr></thead><tbody>${rows.join('')}${other}</tbody></table>` +
    `<p class="muted" data-empty-note hidden>No paths match the filters.</p></div>`
  );
}

function bodyPre(side: ExampleSide): string {
  if (!side.body) return `<pre><span class="gap">${side.error ? e(`no answer: ${side.error}`) : '(empty body)'}</span></pre>`;
  const hl = new Set(side.highlight);
  const gaps = new Set(side.gaps);
  const lines = side.body.split('\n');
  return `<pre>${lines.map((l, i) => `<span${gaps.has(i) ? ' class="gap"' : hl.has(i) ? ' class="hl"' : ''}>${e(l) || ' '}</span>`).join('')}</pre>`;
}

function statusLabel(status: number): string {
  return status === 0 ? 'unknown' : e(status);
}

function sideBox(name: 'legacy' | 'v2', side: ExampleSide, statusDiffers: boolean): string {
  const label = name === 'legacy' ? 'legacy' : 'V2';
  const status = `status ${side.status === 0 ? 'none' : e(side.status)}`;
  const bits = [`<b>${label}</b>`, statusDiffers ? `<mark>${status}</mark>` : status];
  if (side.latencyMs !== null) bits.push(fmtMs(side.latencyMs));
  if (side.contentType) bits.push(e(side.contentType));
  if (side.bodyTruncated) bits.push('excerpt');
  if (side.error) bits.push(`error: ${e(side.error)}`);
  return `<div class="side ${name}"><div class="side-h">${bits.join(' · ')}</div>${bodyPre(side)}</div>`;
}

function exampleBlock(ex: Example): string {
  const fields = ex.fields.length
    ? `<table class="fields"><thead><tr><th>field</th><th>kind</th><th>legacy</th><th>V2</th></tr></thead><tbody>${ex.fields
        .map(
          (f) =>
            `<tr><td>${e(f.pointer)}</td><td>${e(f.kind)}</td><td class="lv">${f.legacy === null ? '<i class="muted">absent</i>' : e(f.legacy)}</td>` +
            `<td class="vv">${f.v2 === null ? '<i class="muted">absent</i>' : e(f.v2)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return (
    `<div class="ex"><div class="ex-h"><span><b>${e(ex.method)} ${e(ex.url)}</b></span><span>pair <span class="mono">${e(ex.pairId)}</span></span>` +
    `<span>trace <span class="mono">${e(ex.traceId ?? '-')}</span></span><span>${e(fmtTime(ex.at))}</span></div>` +
    `${fields}${
      ex.bodies
        ? `<div class="sides">${sideBox('legacy', ex.legacy, ex.legacy.status !== ex.v2.status)}${sideBox('v2', ex.v2, ex.legacy.status !== ex.v2.status)}</div>`
        : `<p class="muted">The source kept the differing values, not the bodies: each side's excerpt is rebuilt around the differing fields (redacted).</p>` +
          `<div class="sides">${sideBox('legacy', ex.legacy, ex.legacy.status !== ex.v2.status)}${sideBox('v2', ex.v2, ex.legacy.status !== ex.v2.status)}</div>`
    }</div>`
  );
}

function examplesFor(r: RouteReport): string {
  const withExamples = r.paths.filter((p) => p.examples.length > 0);
  if (withExamples.length === 0) return '';
  return (
    `<h3>Examples</h3>` +
    withExamples
      .map(
        (p) =>
          `<div class="pathex" ${findingAttrs(r.name, p)}><h4><code>${e(p.path)}</code> · ${e(p.kind)} · ${statusBadge(p.status)} ` +
          `<span class="muted">${fmtInt(p.count)} ${p.count === 1 ? 'pair' : 'pairs'}, ${e(fmtPct(p.rate))}</span></h4>${p.examples.map(exampleBlock).join('')}</div>`,
      )
      .join('')
  );
}

function statusMatrix(r: RouteReport): string {
  const m = r.statusMatrix;
  if (m.legacy.length === 0) return `<p class="muted">No status codes recorded.</p>`;
  const label = (s: number) => (s === 0 ? 'none' : e(s));
  const rows = m.legacy.map(
    (ls, i) =>
      `<tr><th class="n">${label(ls)}</th>${m.v2
        .map((vs, j) => {
          const c = m.counts[i]?.[j] ?? 0;
          const cls = c === 0 ? 'zero' : ls !== vs ? 'off' : '';
          return `<td class="${cls}">${fmtInt(c)}</td>`;
        })
        .join('')}</tr>`,
  );
  return `<table class="matrix"><thead><tr><th>legacy ↓ · V2 →</th>${m.v2.map((s) => `<th class="n">${label(s)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function latencyTable(r: RouteReport): string {
  const l = r.latency;
  if (!l.legacy && !l.v2 && !l.delta) return `<p class="muted">No latency recorded.</p>`;
  const row = (name: string, s: typeof l.legacy) =>
    s
      ? `<tr><td>${name}</td><td class="n">${fmtInt(s.count)}</td><td class="n">${fmtMs(s.p50Ms)}</td><td class="n">${fmtMs(s.p95Ms)}</td><td class="n">${fmtMs(s.p99Ms)}</td><td class="n">${fmtMs(s.meanMs)}</td><td class="n">${fmtMs(s.maxMs)}</td></tr>`
      : '';
  return (
    `<table><thead><tr><th>upstream</th><th class="n">answers</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">mean</th><th class="n">max</th></tr></thead><tbody>` +
    row('legacy', l.legacy) +
    row('V2', l.v2) +
    row('legacy replica', l.replica) +
    (l.delta
      ? `<tr><td>paired Δ</td><td class="n">${fmtInt(l.delta.count)}</td><td class="n">${fmtSignedMs(l.delta.p50Ms)}</td><td class="n">${fmtSignedMs(l.delta.p95Ms)}</td>` +
        `<td class="n">${fmtSignedMs(l.delta.p99Ms)}</td><td class="n">${fmtSignedMs(l.delta.meanMs)}</td><td class="n">${fmtSignedMs(l.delta.maxMs)}</td></tr>`
      : '') +
    `</tbody></table>` +
    (l.delta ? `<p class="muted">V2 was slower than legacy in ${e(fmtPct(l.delta.slowerShare))} of paired requests.</p>` : '')
  );
}

function latencyCharts(r: RouteReport): string {
  const l = r.latency;
  if (!l.legacy && !l.v2 && !l.delta) return '';
  return (
    `<div class="grid2">` +
    `<div><h4>Latency percentiles</h4>${l.legacy || l.v2 ? latencyChart(l, `${r.name}: latency percentiles, legacy vs V2`) : '<p class="muted">No latency recorded.</p>'}</div>` +
    `<div><h4>Paired delta (V2 − legacy), per request</h4>${l.delta ? deltaChart(l.delta, `${r.name}: distribution of paired V2 − legacy latency`) : '<p class="muted">No paired latencies.</p>'}</div>` +
    `</div>`
  );
}

function servedTable(r: RouteReport): string {
  const sv = r.served;
  if (!sv || sv.legacy.requests + sv.v2.requests === 0) return '';
  const row = (name: string, x: ServedSide) =>
    `<tr><td>${name}</td><td class="n">${fmtInt(x.requests)}</td><td class="n">${fmtInt(x.errors)}</td><td class="n">${fmtInt(x.throttled)}</td>` +
    `<td class="n">${fmtMs(x.p50Ms)}</td><td class="n">${fmtMs(x.p95Ms)}</td><td class="n">${fmtMs(x.p99Ms)}</td></tr>`;
  return (
    `<h3>Served to clients</h3><p class="muted">Requests each side answered for clients (canary and V2 modes included; mirror copies not), ${e(fmtTime(sv.window.from))} → ${e(fmtTime(sv.window.to))}.</p>` +
    `<table><thead><tr><th>served by</th><th class="n">requests</th><th class="n">errors</th><th class="n">429s</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th></tr></thead><tbody>` +
    row('legacy', sv.legacy) +
    row('V2', sv.v2) +
    `</tbody></table>`
  );
}

function checkCell(w: CheckWindow, name: RegExp): string {
  const c = w.checks.find((x) => name.test(x.check));
  if (!c) return '<td class="n">-</td>';
  const v = fmtCheckValue(c.check, c.value);
  const lim = c.limit !== null ? ` / ${fmtCheckValue(c.check, c.limit)}` : '';
  return `<td class="n${c.status === 'fail' ? ' bad' : ''}" title="${e(c.reason)}">${e(v)}<span class="muted">${e(lim)}</span></td>`;
}

function windowsTable(ws: readonly CheckWindow[]): string {
  if (ws.length === 0) return '';
  const latName = ws.flatMap((w) => w.checks.map((c) => c.check)).find((c) => /^latency/.test(c)) ?? 'latency';
  return (
    `<table class="win"><thead><tr><th class="n">time</th><th>step</th><th class="n">V2 share</th><th class="n">V2 / legacy requests</th>` +
    `<th class="n">V2 ${e(latName.replace(/^latency|Ms$/g, ''))} / limit</th><th class="n">error rate / limit</th><th class="n">429 rate / limit</th><th class="n">mismatch / limit</th><th>result</th></tr></thead><tbody>` +
    ws
      .map(
        (w) =>
          `<tr class="w-${w.result}"><td class="n">${e(fmtTime(w.at).slice(11))}</td><td>${e(w.step ?? '-')}</td><td class="n">${w.mode === 'mirror' ? 'mirror' : w.weight !== null ? `${w.weight}%` : '-'}</td>` +
          `<td class="n">${fmtInt(w.v2Requests ?? 0)} / ${fmtInt(w.legacyRequests ?? 0)}</td>${checkCell(w, /^latency/)}${checkCell(w, /^errorRate$/)}${checkCell(w, /^throttleRate$/)}${checkCell(w, /^mismatchRate$/)}<td>${e(w.result)}</td></tr>`,
      )
      .join('') +
    `</tbody></table>`
  );
}

function rollbackBox(r: RouteReport): string {
  const rb = r.rollback;
  if (!rb) return '';
  return (
    `<div class="rb" data-rollback><b>Rolled back</b> ${e(fmtTime(rb.at))}${rb.planId ? ` (plan <span class="mono">${e(rb.planId)}</span>)` : ''}: ` +
    `<b>${e(rb.cause ?? rb.reason)}</b>` +
    (rb.windows.length ? `<p class="muted">The canary windows behind it (V2-served figures of each analysis interval):</p>${windowsTable(rb.windows)}` : '') +
    `</div>`
  );
}

function routeSection(r: RouteReport): string {
  const others = r.windows.filter((w) => !r.rollback?.windows.includes(w));
  return (
    `<section class="route" id="${anchor(r.name)}" data-route-section="${e(r.name)}">` +
    `<h2>${e(r.name)} ${verdictBadge(r.verdict)}${badgeTags(r)}</h2>` +
    (servicesLine(r) ? `<p class="services">services: ${e(servicesLine(r)!)} (findings are differences of ${e(r.upstreams!.v2)} from ${e(r.upstreams!.legacy)})</p>` : '') +
    `<p class="reason">${e(r.verdictReason)} · mismatch rate ${e(fmtPct(r.mismatchRate))} against ${e(fmtPct(r.threshold))} (${e(r.thresholdSource)}) · ` +
    `${fmtInt(r.pairs)} pairs: ${fmtInt(r.matching)} identical, ${fmtInt(r.mismatching)} with open differences, ${fmtInt(r.waivedOnly)} only waived, ` +
    `${fmtInt(r.noiseOnly)} only noise, ${fmtInt(r.errors)} not comparable</p>` +
    (r.notCompared > 0 ? `<p class="not-compared">${e(notComparedLine(r))}</p>` : '') +
    rollbackBox(r) +
    servedTable(r) +
    (others.length ? `<details><summary>Analysis windows (${fmtInt(others.length)})</summary>${windowsTable(others)}</details>` : '') +
    (r.pairs > 0 || r.paths.length > 0 ? `<h3>Differing paths (mirrored pairs)</h3>${findingsTable(r)}` : '') +
    examplesFor(r) +
    (r.pairs > 0 ? `<div class="grid2"><div><h3>Status codes (mirrored pairs)</h3>${statusMatrix(r)}</div><div><h3>Latency (mirrored pairs)</h3>${latencyTable(r)}</div></div>` + latencyCharts(r) : '') +
    `</section>`
  );
}

const KIND_LABEL: Record<string, string> = { 'plan-step': 'plan step', weight: 'weight', mode: 'mode', pause: 'pause', resume: 'resume', promote: 'promote', abort: 'abort', waiver: 'waiver', other: 'change' };

function timelineSection(tl: Timeline, runs: readonly RunSummary[], colorOf: (route: string) => string): string {
  if (tl.events.length === 0) return `<section id="timeline"><h2>Rollout timeline</h2><p class="muted">No history in this range.</p></section>`;
  const dashOf = (route: string) => SERIES_DASH[Math.max(0, tl.series.findIndex((s) => s.route === route)) % SERIES_DASH.length];
  const legend =
    `<div class="legend"><span class="muted">routes (lines):</span>${tl.series
      .map((s) => `<span><svg width="22" height="10"><line x1="0" y1="5" x2="22" y2="5" stroke="${colorOf(s.route)}" stroke-width="2.5"${dashOf(s.route) ? ` stroke-dasharray="${dashOf(s.route)}"` : ''}/></svg> ${e(s.route)}</span>`)
      .join('')}` +
    `<span class="muted">events (markers):</span>` +
    [
      ['check pass', { kind: 'check', result: 'pass' }],
      ['check inconclusive', { kind: 'check', result: 'inconclusive' }],
      ['check fail', { kind: 'check', result: 'fail' }],
      ['step, weight or mode', { kind: 'plan-step', result: null }],
      ['pause / promote', { kind: 'pause', result: null }],
      ['abort', { kind: 'abort', result: null }],
    ]
      .map(([label, ev]) => `<span><i class="sw" style="background:${eventColor(ev as { kind: 'check'; result: string | null })}"></i>${label}</span>`)
      .join('') +
    `<span class="muted">grey bands: plan runs</span></div>`;
  const runIndex = new Map(runs.map((r, i) => [r.planId, i]));
  let currentRun: string | null | undefined;
  const items: string[] = [];
  for (const ev of tl.events) {
    if (ev.planId && ev.planId !== currentRun && runIndex.has(ev.planId)) {
      const r = runs[runIndex.get(ev.planId)!]!;
      items.push(`<li class="runstart" data-run-start="${e(ev.planId)}">run ${runIndex.get(ev.planId)! + 1}: plan <span class="mono">${e(ev.planId)}</span> · ${e(OUTCOME[r.outcome])}${r.reached ? ` at ${e(r.reached)}` : ''}</li>`);
    }
    if (ev.planId) currentRun = ev.planId;
    else if (ev.kind !== 'check') currentRun = null;
    const cls = ev.kind === 'abort' ? 'ev-abort' : ev.kind === 'check' && ev.result === 'fail' ? 'ev-check-fail' : '';
    const kind = ev.kind === 'check' ? `check ${ev.result ?? ''}` : (KIND_LABEL[ev.kind] ?? ev.action);
    const more = [
      ev.reason ? `reason: ${ev.reason}` : '',
      ev.details ?? '',
      `by ${ev.by} · version ${ev.version}${ev.ticket ? ` · ticket ${ev.ticket}` : ''}`,
    ]
      .filter(Boolean)
      .join('\n');
    items.push(
      `<li class="${cls}" data-event-routes="${e(ev.routes.join('|'))}"><details><summary><span class="t">${e(fmtTime(ev.at).slice(11))}</span>` +
        `<span class="k" style="color:${eventColor(ev)}">${e(kind)}</span><span class="s">${e(ev.summary)}</span></summary><pre>${e(more)}</pre></details></li>`,
    );
  }
  return (
    `<section id="timeline"><h2>Rollout timeline</h2><p class="reason">${e(fmtTime(tl.from))} → ${e(fmtTime(tl.to))} · V2's share of each route's traffic, ${fmtInt(tl.events.length)} events (click one for its details)</p>` +
    legend +
    timelineChart(tl, colorOf, runs) +
    `<ol class="tl">${items.join('')}</ol></section>`
  );
}

function footer(model: ReportModel): string {
  const l = model.limits;
  return (
    `<footer>Read from: ${e(model.sources.join('; ') || 'nothing')}. Report schema ${e(model.schemaVersion)}. Up to ${fmtInt(l.pathsPerRoute)} paths per route and ${fmtInt(l.examplesPerPath)} examples per path; ` +
    `example bodies cut at ${fmtInt(l.exampleBodyBytes)} bytes. Left out: ${fmtInt(l.pathsOmitted)} paths, ${fmtInt(l.examplesOmitted)} examples, ${fmtInt(l.bodiesOmitted)} example bodies, ${fmtInt(l.eventsOmitted)} timeline events. ` +
    `Redacted headers: ${e(model.redaction.headers.join(', ') || 'none')}; redacted fields: ${e(model.redaction.paths.join(', ') || 'none')}.</footer>`
  );
}

export function renderHtml(model: ReportModel): string {
  const routeNames = [...new Set([...model.routes.map((r) => r.name), ...model.timeline.series.map((s) => s.route)])];
  const colorOf = (route: string) => SERIES_COLORS[Math.max(0, routeNames.indexOf(route)) % SERIES_COLORS.length]!;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${e(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="cutover report schema ${e(model.schemaVersion)}">`,
    `<title>cutover report · ${e(VERDICT_LABEL[model.verdict])}</title>`,
    `<style>${CSS}</style></head><body><main>`,
    head(model),
    summaryTable(model),
    model.routes.length ? filters(model) : '',
    model.routes.map(routeSection).join(''),
    timelineSection(model.timeline, model.runs, colorOf),
    footer(model),
    `</main><script>${SCRIPT}</script></body></html>\n`,
  ].join('');
}
