/**
 * The fault and soak suite: `runSoak({ quick })` starts the cluster, runs the bad-input sweep,
 * puts a steady load on it, injects the faults one at a time, and returns the summary with
 * every invariant checked. `soak/main.ts` is the `npm run soak` shell around it.
 */
import { REPLICA_COUNT, SoakCluster } from './cluster.js';
import { badInputSweep, type BadInputCase } from './bad-input.js';
import { FAULTS, FULL, QUICK, FaultRunner, type FaultId } from './faults.js';
import { CONVERGE_LIMIT_MS, RSS_GROWTH_LIMIT_MB, RSS_PEAK_LIMIT_MB, faultChecks, rssChecks, type Check, type FaultRecord, type RssRecord } from './invariants.js';
import { LoadGenerator, type PostAccount } from './load.js';
import { serviceCounts } from './observe.js';
import { RssSampler } from './rss.js';
import { phaseFigures } from './phases.js';
import { SUMMARY_SCHEMA_VERSION, type SoakSummary } from './summary.js';

export { writeSummary, renderMarkdown, type SoakSummary } from './summary.js';
export { FAULTS, type FaultId } from './faults.js';

export interface SoakOptions {
  quick?: boolean;
  /** Which faults to run (default all eight, in order). */
  faults?: FaultId[];
  rps?: number;
  badInput?: boolean;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function postAccounts(legacyUrl: string): Promise<PostAccount[]> {
  const out: PostAccount[] = [];
  for (let i = 2001; i <= 2040; i++) {
    const id = `A-${String(i).padStart(6, '0')}`;
    const r = await fetch(`${legacyUrl}/accounts/${id}/balance`);
    const b = (await r.json()) as { currency?: string };
    if (r.ok && b.currency) out.push({ accountId: id, currency: b.currency });
  }
  return out;
}

export async function runSoak(opts: SoakOptions = {}): Promise<SoakSummary> {
  const d = opts.quick ? QUICK : FULL;
  const rps = opts.rps ?? (opts.quick ? 100 : 150);
  const log = opts.log ?? (() => undefined);
  const faultIds = opts.faults ?? FAULTS.map((f) => f.id);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const cluster = new SoakCluster();
  let load: LoadGenerator | undefined;
  try {
    log('starting redis, legacy, v2, legacyReplica and 3 proxy replicas');
    await cluster.start();
    const accounts = await postAccounts(cluster.legacy.url);
    let badInput: BadInputCase[] = [];
    if (opts.badInput !== false) {
      log('bad-input sweep');
      badInput = await badInputSweep(cluster);
      log(`bad-input sweep: ${badInput.filter((c) => c.ok).length}/${badInput.length} as expected`);
    }
    const legacyBefore = await serviceCounts(cluster.legacy.url);
    load = new LoadGenerator(cluster.proxies.map((p) => p.dataUrl), rps, accounts);
    load.start();
    await sleep(d.warmupMs);
    const sampler = new RssSampler(() => cluster.live());
    sampler.start();

    const runner = new FaultRunner(cluster, load, d);
    const records: FaultRecord[] = [];
    for (const id of faultIds) {
      log(`fault ${id}: ${FAULTS.find((f) => f.id === id)!.what}`);
      const rec = await runner.run(id);
      records.push(rec);
      log(`fault ${id}: ${rec.checks.filter((c) => c.ok).length}/${rec.checks.length} checks hold`);
    }
    // The end figure is taken under the same load as the baseline.
    await sleep(3000);
    sampler.stop();
    await load.stop();
    const samples = load.samples;
    // Recomputed now that every request sent in a window has its answer.
    for (const r of records) {
      r.before = phaseFigures(samples, r.window.before[0], r.window.before[1]);
      r.during = phaseFigures(samples, r.window.during[0], r.window.during[1]);
      r.after = phaseFigures(samples, r.window.after[0], r.window.after[1]);
      r.client = phaseFigures(samples, r.window.during[0], r.window.after[1]);
      const { checks: _c, ...rest } = r;
      r.checks = faultChecks(rest);
    }
    const rss: RssRecord[] = sampler.records();
    const f2 = records.find((r) => r.id === 2);
    const f2Pids = (f2?.extra.pids ?? {}) as Record<string, number>;
    for (const r of rss) {
      const at = f2?.rssMb[r.label];
      // Only for the same process (not one restarted by a later fault).
      if (at !== undefined && r.endMb !== undefined && f2Pids[r.label] === r.pid) r.sinceLargeBodiesMb = Math.round((r.endMb - at) * 10) / 10;
    }
    const v2 = await runner.v2.total();
    const legacy = await serviceCounts(cluster.legacy.url);
    const shadow = await runner.shadowSoFar();
    const totals = phaseFigures(samples, 0, Number.POSITIVE_INFINITY);
    const postsOk = samples.filter((s) => s.method === 'POST' && s.status >= 200 && s.status < 300).length;
    const legacyNewPostings = (legacy?.postingsTotal ?? 0) - (legacyBefore?.postingsTotal ?? 0);

    const invariants: Check[] = [];
    for (const r of records) for (const c of r.checks) invariants.push({ ...c, name: `fault ${r.id} (${r.name}): ${c.name}` });
    invariants.push({ name: 'no POST reached V2 over the whole run (POSTs are on a mirror route)', ok: v2.posts === 0, detail: `${v2.posts}` });
    invariants.push({ name: 'no POST applied twice over the whole run', ok: (legacy?.appliedMoreThanOnce ?? 1) + v2.appliedMoreThanOnce === 0, detail: `legacy ${legacy?.appliedMoreThanOnce ?? '?'}, v2 ${v2.appliedMoreThanOnce}` });
    invariants.push({ name: 'every POST the client saw succeed is in legacy\'s idempotency records', ok: legacyNewPostings >= postsOk, detail: `${postsOk} client successes, ${legacyNewPostings} records` });
    invariants.push({ name: 'no service received x-cutover-shadow (nothing unsafe mirrored, nothing forged passed)', ok: (legacy?.shadowTotal ?? 1) + v2.shadowTotal === 0, detail: `legacy ${legacy?.shadowTotal ?? '?'}, v2 ${v2.shadowTotal}` });
    invariants.push(...rssChecks(rss, !opts.quick));
    if (badInput.length) {
      const bad = badInput.filter((c) => !c.ok);
      invariants.push({ name: 'bad-input sweep: every case refused as expected, state version unchanged', ok: bad.length === 0, detail: bad.length ? bad.map((c) => `${c.group}/${c.name}: ${c.status}`).join('; ') : `${badInput.length} cases` });
    }
    return {
      schemaVersion: SUMMARY_SCHEMA_VERSION,
      variant: opts.quick ? 'quick' : 'full',
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      rps,
      replicas: REPLICA_COUNT,
      limits: { rssGrowthMb: RSS_GROWTH_LIMIT_MB, rssPeakMb: RSS_PEAK_LIMIT_MB, convergeMs: CONVERGE_LIMIT_MS, warmupMs: d.warmupMs },
      totals,
      postsToV2FromMirror: v2.posts,
      postsAppliedTwice: (legacy?.appliedMoreThanOnce ?? 0) + v2.appliedMoreThanOnce,
      postsRetriedHonoured: legacy?.keysRequestedMoreThanOnce ?? 0,
      shadow,
      faults: records,
      rss,
      badInput,
      invariants,
      ok: invariants.every((c) => c.ok),
    };
  } finally {
    await load?.stop().catch(() => undefined);
    await cluster.stop();
  }
}
