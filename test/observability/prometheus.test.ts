/**
 * A real Prometheus server (started here on a free port, temp data dir, 1 s scrapes) scrapes a
 * real `cutover proxy`; the plan runner's `prometheus` metrics source then reads through PromQL
 * the same V2 error rate the proxy's own /admin/stats gives the analysis, and every expression
 * of the Grafana dashboard evaluates on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { DURATION_BUCKETS } from '../../proxy/metrics.js';
import { sampleRoute } from '../../rollout-cli/plan/analysis.js';
import { openMetricsSource } from '../../rollout-cli/plan/metrics-source.js';
import { Histogram } from '../../shared/stats/histogram.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { openStateStore } from '../../shared/state/index.js';
import { freePort, ROOT, stopAll } from '../helpers/processes.js';
import { startCliProxy, statusOrigin, tempDir, writeConfig, type Origin, type ProxyProcess } from './fixtures.js';

let legacy: Origin;
let v2: Origin;
let proxy: ProxyProcess;
let prom: ChildProcess | undefined;
let promUrl: string;
let promLog = '';
let stateUrl: string;

async function promQuery(q: string): Promise<{ status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  return (await r.json()) as never;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; prometheus log:\n${promLog.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const byQuery = (url: string) => Number(/[?&]s=(\d{3})/.exec(url)?.[1] ?? 200);

beforeAll(async () => {
  legacy = await statusOrigin('legacy', byQuery);
  v2 = await statusOrigin('v2', byQuery);
  const dir = tempDir('cutover-obs-prom-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  const adminPort = await freePort();
  const config = writeConfig(
    dir,
    `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:${await freePort()}, admin: 127.0.0.1:${adminPort} }
state: ${stateUrl}
replicaId: obs-prom
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: v2
  - name: statement
    match: { method: GET, path: /accounts/:accountId/statement }
    mode: legacy
`,
  );
  proxy = await startCliProxy(config);

  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  const promConfig = join(dir, 'prometheus.yml');
  writeFileSync(
    promConfig,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: cutover
    metrics_path: /metrics
    static_configs: [{ targets: ['127.0.0.1:${adminPort}'] }]
`,
  );
  prom = spawn(
    '/usr/bin/prometheus',
    [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prom.stdout!.on('data', (d) => (promLog += d));
  prom.stderr!.on('data', (d) => (promLog += d));
  // Traffic starts only once Prometheus holds a sample of the zero-valued series (so increase() counts from 0).
  await until('the first scrape', async () => {
    const r = await promQuery('cutover_requests_total{route="balance",upstream="v2",code_class="2xx"}');
    return r.data?.result.length ? true : undefined;
  });
}, 30_000);

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    const t = setTimeout(() => prom!.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  await proxy?.stop();
  await legacy?.close();
  await v2?.close();
  await stopAll();
});

describe('Prometheus scraping the proxy', () => {
  it('gives the plan runner the same V2 error rate through PromQL as the proxy stats', async () => {
    const paths = [
      ...Array.from({ length: 90 }, (_, i) => `/accounts/B-${i}/balance`),
      ...Array.from({ length: 30 }, (_, i) => `/accounts/B-${i}/balance?s=503`),
      ...Array.from({ length: 6 }, (_, i) => `/accounts/B-${i}/balance?s=429`),
      ...Array.from({ length: 40 }, (_, i) => `/accounts/S-${i}/statement`),
    ];
    const agent = new Agent({ connections: 8 });
    for (const p of paths) await (await request(`${proxy.dataUrl}${p}`, { dispatcher: agent })).body.dump();
    await agent.close();
    // Wait until Prometheus has scraped the final counts.
    await until('the final counts in Prometheus', async () => {
      const r = await promQuery('sum(cutover_requests_total)');
      return Number(r.data?.result[0]?.value[1]) === 166 ? true : undefined;
    });

    const own = (await (await fetch(`${proxy.adminUrl}/admin/stats?window=30s`)).json()) as StatsSnapshot;
    const store = openStateStore(stateUrl);
    const source = openMetricsSource({ prometheus: { url: promUrl, timeoutMs: 5000, queries: {} } }, { store });
    const viaProm = await source.read(30);
    await store.close();
    expect(source.kind).toBe('prometheus');
    expect(viaProm.answered).toEqual(['127.0.0.1:' + new URL(proxy.adminUrl).port]);
    expect(viaProm.failed).toEqual([]);

    const mine = sampleRoute(own.routes.balance, 'canary');
    const theirs = sampleRoute(viaProm.stats.routes.balance, 'canary');
    expect(mine.v2.requests).toBe(126);
    expect(mine.v2.errors).toBe(30);
    const errorRate = (s: typeof mine) => s.v2.errors / s.v2.requests;
    const throttleRate = (s: typeof mine) => (s.v2.throttled ?? 0) / s.v2.requests;
    // Every series started at 0 inside the window and the source evaluates at the newest scrape:
    // increase() has nothing to extrapolate, and the counts are the proxy's own.
    expect(theirs.v2.requests).toBe(126);
    expect(theirs.v2.errors).toBe(30);
    expect(theirs.v2.throttled).toBe(6);
    expect(errorRate(theirs)).toBe(errorRate(mine));
    expect(throttleRate(theirs)).toBe(throttleRate(mine));
    expect(theirs.legacy.requests).toBe(0);
    const statement = sampleRoute(viaProm.stats.routes.statement, 'canary');
    expect(statement.legacy.requests).toBe(40);
    expect(statement.legacy.errors).toBe(0);
    // The latency histogram comes back from the buckets.
    expect(theirs.v2.latency.count).toBe(126);
    // Its p99 lies in the Prometheus bucket that holds the proxy's own p99 (within our buckets' ~3 %).
    const ownP99 = Histogram.fromJSON(mine.v2.latency).quantile(0.99) / 1e6;
    const hi = DURATION_BUCKETS.find((b) => ownP99 <= b) ?? Infinity;
    const lo = [...DURATION_BUCKETS].reverse().find((b) => b < ownP99) ?? 0;
    const promP99 = Histogram.fromJSON(theirs.v2.latency).quantile(0.99) / 1e6;
    expect(promP99).toBeGreaterThanOrEqual(lo * 0.97);
    expect(promP99).toBeLessThanOrEqual(hi === Infinity ? Infinity : hi * 1.04);
    expect(viaProm.stats.appliedVersion).toBe(own.appliedVersion);
  });

  it('evaluates every expression of the Grafana dashboard', async () => {
    const dash = JSON.parse(readFileSync(join(ROOT, 'dashboards', 'cutover.grafana.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr.replaceAll('$__rate_interval', '30s').replaceAll('$route', '.*') })));
    let withData = 0;
    for (const e of exprs) {
      const r = await promQuery(e.expr);
      expect(r.status, `${e.panel}: ${e.expr}: ${r.error}`).toBe('success');
      if (r.data!.result.length > 0) withData++;
    }
    // Failures by kind is filtered to > 0 and no upstream failed here; everything else has data.
    expect(withData).toBeGreaterThanOrEqual(exprs.length - 2);
  });
});
