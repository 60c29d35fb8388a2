/**
 * The Markdown summary for a pull request or chat: one table of routes and the top open
 * findings. Every input text is escaped (no HTML, no links, no table breaks).
 */
import { escMd, mdCode } from './escape.js';
import { fmtInt, fmtMs, fmtPct, fmtSignedMs, fmtTime, notComparedLine, VERDICT_LABEL } from './format.js';

/** Times come from the input and are echoed when they do not parse: escape them too. */
const time = (iso: string | null | undefined) => escMd(fmtTime(iso));
import type { PathFinding, ReportModel } from './model.js';

const TOP_FINDINGS = 10;
const TOP_EVENTS = 5;

export function renderMarkdown(model: ReportModel): string {
  const t = model.totals;
  const out: string[] = [];
  out.push(`### cutover report: ${VERDICT_LABEL[model.verdict]}`);
  out.push('');
  out.push(
    `${time(model.range.from)} → ${time(model.range.to)} · ${fmtInt(t.pairs)} pairs · mismatch rate ${fmtPct(t.mismatchRate)} · ` +
      `${fmtInt(t.openPaths)} open, ${fmtInt(t.waivedPaths)} waived, ${fmtInt(t.noisyPaths)} noisy paths`,
  );
  out.push('');
  const g = model.gate;
  if (g.maxMismatchRate !== null || g.failOnOpenFindings) {
    out.push(`**CI gate ${g.failed ? 'failed' : 'passed'}**${g.failures.length ? ':' : ''}`);
    for (const f of g.failures) out.push(`- ${escMd(f)}`);
    out.push('');
  }
  if (model.routes.length > 0) {
    out.push('| route | verdict | pairs | mismatch rate | threshold | open | waived | noise | p99 legacy | p99 V2 | Δ p50 |');
    out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of model.routes) {
      out.push(
        `| ${mdCode(r.name)} | ${VERDICT_LABEL[r.verdict]} | ${fmtInt(r.pairs)} | ${fmtPct(r.mismatchRate)} | ${fmtPct(r.threshold)} | ` +
          `${fmtInt(r.counts.openPaths)} | ${fmtInt(r.counts.waivedPaths)} | ${fmtInt(r.counts.noisyPaths)} | ` +
          `${fmtMs(r.latency.legacy?.p99Ms)} | ${fmtMs(r.latency.v2?.p99Ms)} | ${r.latency.delta ? fmtSignedMs(r.latency.delta.p50Ms) : '-'} |`,
      );
    }
    out.push('');
    for (const r of model.routes) {
      if (r.notCompared > 0) out.push(`- ${mdCode(r.name)}: ${notComparedLine(r)}`);
    }
    if (model.routes.some((r) => r.notCompared > 0)) out.push('');
  } else {
    out.push('No verified pairs in this range.');
    out.push('');
  }

  const open: Array<{ route: string; p: PathFinding }> = [];
  for (const r of model.routes) for (const p of r.paths) if (p.status === 'open') open.push({ route: r.name, p });
  open.sort((a, b) => b.p.openRate - a.p.openRate || b.p.openCount - a.p.openCount || (a.p.path < b.p.path ? -1 : 1));
  if (open.length > 0) {
    out.push(`**Top open findings** (${fmtInt(open.length)} listed in the report)`);
    out.push('');
    out.push('| route | path | kind | pairs | rate | example trace |');
    out.push('| --- | --- | --- | ---: | ---: | --- |');
    for (const { route, p } of open.slice(0, TOP_FINDINGS)) {
      const trace = p.examples.find((x) => x.traceId)?.traceId;
      out.push(
        `| ${mdCode(route)} | ${mdCode(p.path)}${p.suspectedVolatile ? ' (suspected volatile)' : ''} | ${escMd(p.kind)} | ${fmtInt(p.count)} | ${fmtPct(p.rate)} | ${trace ? mdCode(trace) : '-'} |`,
      );
    }
    out.push('');
  }

  const notable = model.timeline.events.filter((ev) => ev.kind === 'abort' || ev.kind === 'pause' || ev.kind === 'promote' || (ev.kind === 'check' && ev.result === 'fail'));
  if (notable.length > 0) {
    out.push('**Rollout events**');
    out.push('');
    for (const ev of notable.slice(-TOP_EVENTS)) {
      out.push(`- ${time(ev.at)} ${escMd(ev.action)}${ev.result ? ` ${escMd(ev.result)}` : ''}: ${escMd(ev.summary)}${ev.reason ? ` (reason: ${escMd(ev.reason)})` : ''}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
