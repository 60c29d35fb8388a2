/** Writes reports/soak/summary.json and summary.md from the run's record (pure rendering + one write). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BadInputCase } from './bad-input.js';
import type { Check, FaultRecord, RssRecord } from './invariants.js';
import type { ShadowCounts } from './observe.js';
import type { PhaseFigures, WindowFigures } from './phases.js';

export const SUMMARY_SCHEMA_VERSION = 1;

export interface SoakSummary {
  schemaVersion: number;
  variant: 'full' | 'quick';
  startedAt: string;
  durationMs: number;
  rps: number;
  replicas: number;
  limits: { rssGrowthMb: number; rssPeakMb: number; convergeMs: number; warmupMs: number };
  totals: PhaseFigures;
  postsToV2FromMirror: number;
  postsAppliedTwice: number;
  postsRetriedHonoured: number;
  shadow: ShadowCounts;
  faults: FaultRecord[];
  rss: RssRecord[];
  badInput: BadInputCase[];
  invariants: Check[];
  ok: boolean;
}

const ms = (v: number | null) => (v === null ? '-' : `${v}`);
const failed = (f: WindowFigures) => (f.failed === 0 ? '0' : `${f.failed} ${JSON.stringify(f.failedBy)}`);

export function renderMarkdown(s: SoakSummary): string {
  const L: string[] = [];
  L.push(`# Soak summary (${s.variant})`, '');
  L.push(`${s.ok ? 'PASS' : 'FAIL'}: ${s.invariants.filter((c) => c.ok).length}/${s.invariants.length} invariants hold. Started ${s.startedAt}, ${Math.round(s.durationMs / 1000)} s, ${s.rps} req/s over ${s.replicas} proxy replicas.`, '');
  L.push(`Client requests: ${s.totals.all.sent} sent, ${s.totals.all.succeeded} succeeded, failed ${failed(s.totals.all)}; retried once on another replica: ${s.totals.all.retried}.`);
  L.push(`POSTs reaching V2 from mirror routes: ${s.postsToV2FromMirror}. POSTs applied twice: ${s.postsAppliedTwice}. Idempotency keys retried and honoured once: ${s.postsRetriedHonoured}.`);
  L.push(`Shadow copies: sent ${s.shadow.sent}, timed out ${s.shadow.timeouts}, failed ${s.shadow.errors}, dropped ${s.shadow.dropped}; pairs dropped before the verifier ${s.shadow.pairsDropped}; pairs the verifier took ${s.shadow.verifierAccepted} and dropped ${s.shadow.verifierDropped}; verified pairs ${s.shadow.diffs.pairs} (mismatch ${s.shadow.diffs.mismatch}, error ${s.shadow.diffs.error}).`, '');
  L.push('## Faults', '');
  L.push('| # | fault | sent | ok | failed (by status) | mirror failed | canary failed | p50/p99 before | p50/p99 during | p50/p99 after | mirror p99 before/during/after | V2 POSTs | applied twice | shadow timeouts/errors/dropped | converged | checks |');
  L.push('| - | - | - | - | - | - | - | - | - | - | - | - | - | - | - | - |');
  for (const f of s.faults) {
    const c = f.client;
    L.push(
      `| ${f.id} | ${f.name} | ${c.all.sent} | ${c.all.succeeded} | ${failed(c.all)} | ${c.mirror.failed} | ${c.canary.failed} | ${ms(f.before.all.p50Ms)}/${ms(f.before.all.p99Ms)} | ${ms(f.during.all.p50Ms)}/${ms(f.during.all.p99Ms)} | ${ms(f.after.all.p50Ms)}/${ms(f.after.all.p99Ms)} | ${ms(f.before.mirror.p99Ms)}/${ms(f.during.mirror.p99Ms)}/${ms(f.after.mirror.p99Ms)} | ${f.postsToV2FromMirror} | ${f.postsAppliedTwice} | ${f.shadow.timeouts}/${f.shadow.errors}/${f.shadow.dropped} | ${f.converged ? `yes${f.convergeMs !== null ? ` (${f.convergeMs} ms)` : ''}` : 'NO'} | ${f.checks.filter((x) => x.ok).length}/${f.checks.length} |`,
    );
  }
  L.push('', 'Latencies in ms (successful client requests). "failed" counts requests sent from the fault to the end of its after-window.', '');
  L.push('## Invariants', '');
  for (const c of s.invariants) L.push(`- ${c.ok ? 'ok' : '**FAILED**'}: ${c.name} — ${c.detail}`);
  L.push('', `## RSS (limits: peak under ${s.limits.rssPeakMb} MB for every process; growth under ${s.limits.rssGrowthMb} MB after a ${s.limits.warmupMs / 1000} s warm-up${s.variant === 'quick' ? ', judged in the full run only' : ''})`, '');
  L.push('Sampled once a second; baseline = median of the first 3 samples after warm-up (or after a restart), end = median of the last 3, under load.', '');
  L.push('"since fault 2": growth from the end of the 10 MB-body fault to the end of the run (a leak keeps growing; an allocator high-water mark does not).', '');
  L.push('| process | baseline MB | end MB | growth MB | peak MB | since fault 2 MB |', '| - | - | - | - | - | - |');
  for (const r of s.rss) L.push(`| ${r.label}${r.restarted ? ' (restarted; baseline after restart)' : ''} | ${r.baselineMb ?? '-'} | ${r.endMb ?? '-'} | ${r.growthMb ?? '-'} | ${r.peakMb ?? '-'} | ${r.sinceLargeBodiesMb ?? '-'} |`);
  L.push('', '## Bad-input sweep', '');
  L.push('| group | case | expected | got | message | version before/after | ok |', '| - | - | - | - | - | - | - |');
  for (const b of s.badInput) {
    L.push(`| ${b.group} | ${b.name.replace(/\|/g, '\\|')} | ${b.expected} | ${b.status} | ${b.message.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 160)} | ${b.versionBefore}/${b.versionAfter} | ${b.ok ? 'ok' : '**NO**'} |`);
  }
  return `${L.join('\n')}\n`;
}

export function writeSummary(dir: string, s: SoakSummary): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'summary.json');
  const md = join(dir, 'summary.md');
  writeFileSync(json, `${JSON.stringify(s, null, 2)}\n`);
  writeFileSync(md, renderMarkdown(s));
  return { json, md };
}
