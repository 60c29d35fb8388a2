/**
 * The Markdown summary for a pull request or chat: one table of routes and the top open
 * findings. Every input text is escaped (no HTML, no links, no table breaks).
 */
import { escMd, mdCode } from './escape.js';
import { ANSWER_LABEL, fmtInt, fmtMs, fmtPct, fmtSignedMs, fmtTime, notComparedLine, servicesLine, VERDICT_LABEL } from './format.js';

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
  const d = model.decision;
  out.push(`**${ANSWER_LABEL[d.answer].toUpperCase()}**: ${escMd(d.headline)}`);
  out.push('');
  for (const w of d.why) out.push(`- ${escMd(w)}`);
  if (d.why.length) out.push('');
  if (d.figures.length) {
    out.push('| route | measure | value | limit |');
    out.push('| --- | --- | ---: | ---: |');
    for (const f of d.figures) out.push(`| ${f.route ? mdCode(f.route) : 'all'} | ${escMd(f.label)} | ${f.bad ? `**${escMd(f.value)}**` : escMd(f.value)} | ${escMd(f.limit ?? '-')} |`);
    out.push('');
  }
  if (model.runs.length) {
    out.push(`**Runs**`);
    out.push('');
    model.runs.forEach((r, i) => {
      const c = r.checks;
      out.push(`- run ${i + 1}: plan ${mdCode(r.planId)} ${escMd(r.outcome.replace('-', ' '))}${r.reached ? ` at ${escMd(r.reached)}` : ''}, ${time(r.from)} → ${time(r.to)}, checks ${c.pass} pass / ${c.fail} fail / ${c.inconclusive} inconclusive`);
    });
    out.push('');
  }
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
      const verdict = [r.verdict === 'not-mirrored' ? 'not mirrored: unsafe method' : VERDICT_LABEL[r.verdict], ...r.badges.filter((b) => !b.startsWith(VERDICT_LABEL[r.verdict]))].join(', ');
      out.push(
        `| ${mdCode(r.name)}${servicesLine(r) ? ` (${escMd(servicesLine(r)!)})` : ''} | ${escMd(verdict)} | ${fmtInt(r.pairs)} | ${fmtPct(r.mismatchRate)} | ${fmtPct(r.threshold)} | ` +
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

  const open: Array<{ route: string; v2: string | undefined; p: PathFinding }> = [];
  for (const r of model.routes) for (const p of r.paths) if (p.status === 'open') open.push({ route: r.name, v2: servicesLine(r) ? r.upstreams!.v2 : undefined, p });
  open.sort((a, b) => b.p.openRate - a.p.openRate || b.p.openCount - a.p.openCount || (a.p.path < b.p.path ? -1 : 1));
  if (open.length > 0) {
    out.push(`**Top open findings** (${fmtInt(open.length)} listed in the report)`);
    out.push('');
    out.push('| route | path | kind | pairs | rate | example trace |');
    out.push('| --- | --- | --- | ---: | ---: | --- |');
    for (const { route, v2, p } of open.slice(0, TOP_FINDINGS)) {
      const trace = p.examples.find((x) => x.traceId)?.traceId;
      out.push(
        `| ${mdCode(route)}${v2 ? ` (${escMd(v2)})` : ''} | ${mdCode(p.path)}${p.suspectedVolatile ? ' (suspected volatile)' : ''} | ${escMd(p.kind)} | ${fmtInt(p.count)} | ${fmtPct(p.rate)} | ${trace ? mdCode(trace) : '-'} |`,
      );
    }
    out.push('');
  }

  const rolled = model.routes.filter((r) => r.rollback);
  if (rolled.length > 0) {
    out.push('**Rollbacks**');
    out.push('');
    for (const r of rolled) {
      const rb = r.rollback!;
      const last = [...rb.windows].reverse().find((w) => w.result === 'fail');
      const v2 = last ? `; that window: ${fmtInt(last.v2Requests ?? 0)} V2 / ${fmtInt(last.legacyRequests ?? 0)} legacy requests` : '';
      out.push(`- ${mdCode(r.name)} ${time(rb.at)}: ${escMd(rb.cause ?? rb.reason)}${escMd(v2)}`);
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
