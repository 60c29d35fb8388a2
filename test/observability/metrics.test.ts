/**
 * `/metrics` of a real `cutover proxy` process: known traffic gives known counters, histogram
 * buckets add up to their count, 1,000 distinct raw paths create no new series, promtool
 * accepts a live scrape, the rollout gauges follow state changes, and the proxy's JSON log has
 * one line per state change (with its reason) and per rollback (with the abort's reason).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { CUTOVER_METRIC_NAMES } from '../../proxy/metrics.js';
import { changeState, openStateStore, waitForApplied, type StateStore } from '../../shared/state/index.js';
import { freePort, stopAll } from '../helpers/processes.js';
import { parseMetrics, scrape, startCliProxy, statusOrigin, tempDir, value, writeConfig, type Origin, type ProxyProcess, type Sample } from './fixtures.js';

let legacy: Origin;
let v2: Origin;
let proxy: ProxyProcess;
let store: StateStore;
let stateUrl: string;

/** ?s=NNN picks the status; anything else is 200. */
const byQuery = (url: string) => Number(/[?&]s=(\d{3})/.exec(url)?.[1] ?? 200);

beforeAll(async () => {
  legacy = await statusOrigin('legacy', byQuery);
  v2 = await statusOrigin('v2', byQuery);
  const dir = tempDir('cutover-obs-metrics-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  const config = writeConfig(
    dir,
    `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:${await freePort()}, admin: 127.0.0.1:${await freePort()} }
state: ${stateUrl}
replicaId: obs-metrics
routes:
  - name: statement
    match: { method: GET, path: /accounts/:accountId/statement }
    mode: legacy
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: v2
`,
  );
  proxy = await startCliProxy(config);
  store = openStateStore(stateUrl);
});

afterAll(async () => {
  await proxy?.stop();
  await store?.close();
  await legacy?.close();
  await v2?.close();
  await stopAll();
});

async function send(paths: string[]): Promise<void> {
  const agent = new Agent({ connections: 16 });
  let i = 0;
  const worker = async () => {
    while (i < paths.length) {
      const p = paths[i++]!;
      const r = await request(`${proxy.dataUrl}${p}`, { dispatcher: agent });
      await r.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await agent.close();
}

const series = (samples: Sample[]) => new Set(samples.filter((s) => s.name.startsWith('cutover_')).map((s) => `${s.name}${JSON.stringify(s.labels)}`));

describe('metrics of a live proxy', () => {
  it('counts known traffic exactly, by route, upstream and status class', async () => {
    const paths = [
      ...Array.from({ length: 20 }, (_, i) => `/accounts/S-${i}/statement`),
      ...Array.from({ length: 5 }, (_, i) => `/accounts/S-${i}/statement?s=500`),
      ...Array.from({ length: 3 }, (_, i) => `/accounts/S-${i}/statement?s=429`),
      ...Array.from({ length: 10 }, (_, i) => `/accounts/B-${i}/balance`),
      ...Array.from({ length: 4 }, (_, i) => `/accounts/B-${i}/balance?s=503`),
      '/somewhere/else',
      '/somewhere/else/again',
    ];
    await send(paths);
    const m = parseMetrics(await scrape(proxy.adminUrl));
    const req = (route: string, upstream: string, code_class: string) => value(m, 'cutover_requests_total', { route, upstream, code_class });
    expect(req('statement', 'legacy', '2xx')).toBe(20);
    expect(req('statement', 'legacy', '5xx')).toBe(5);
    expect(req('statement', 'legacy', '4xx')).toBe(3);
    expect(req('statement', 'v2', '2xx')).toBe(0);
    expect(req('balance', 'v2', '2xx')).toBe(10);
    expect(req('balance', 'v2', '5xx')).toBe(4);
    expect(req('balance', 'legacy', '2xx')).toBe(0);
    expect(req('default', 'legacy', '2xx')).toBe(2);
    expect(value(m, 'cutover_throttled_total', { route: 'statement', upstream: 'legacy' })).toBe(3);
    expect(value(m, 'cutover_throttled_total', { route: 'balance', upstream: 'v2' })).toBe(0);

    // Histograms: cumulative buckets never decrease, +Inf equals _count, and _count equals the requests counted.
    for (const [route, upstream, n] of [
      ['statement', 'legacy', 28],
      ['balance', 'v2', 14],
      ['default', 'legacy', 2],
    ] as const) {
      const buckets = m.filter((s) => s.name === 'cutover_request_duration_seconds_bucket' && s.labels.route === route && s.labels.upstream === upstream);
      expect(buckets.length).toBe(14);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(buckets.at(-1)!.labels.le).toBe('+Inf');
      expect(buckets.at(-1)!.value).toBe(n);
      expect(value(m, 'cutover_request_duration_seconds_count', { route, upstream })).toBe(n);
      const sum = value(m, 'cutover_request_duration_seconds_sum', { route, upstream })!;
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(n * 5);
    }
    // Every metric the module declares is exported from the start (zero-initialised series).
    const names = new Set(m.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    for (const name of CUTOVER_METRIC_NAMES) expect(names, name).toContain(name);
    expect(value(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('keeps label values to the route table: 1,000 distinct raw paths add no series', async () => {
    const before = series(parseMetrics(await scrape(proxy.adminUrl)));
    const paths = Array.from({ length: 1000 }, (_, i) => (i % 2 ? `/accounts/X-${i}-${Math.random().toString(36).slice(2)}/statement` : `/raw/${i}/path-${i}`));
    await send(paths);
    const text = await scrape(proxy.adminUrl);
    const after = series(parseMetrics(text));
    expect([...after].filter((s) => !before.has(s))).toEqual([]);
    expect(after.size).toBe(before.size);
    expect(text).not.toMatch(/X-\d+-|\/raw\//);
    const routes = new Set(parseMetrics(text).filter((s) => s.labels.route !== undefined).map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(['balance', 'default', 'statement']);
    expect(value(parseMetrics(text), 'cutover_requests_total', { route: 'default', upstream: 'legacy', code_class: '2xx' })).toBe(502);
  });

  it('passes promtool check metrics on a live scrape', async () => {
    const text = await scrape(proxy.adminUrl);
    let out = '';
    let code = 0;
    try {
      out = execFileSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      code = e.status;
      out = `${e.stdout}${e.stderr}`;
    }
    expect(out.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('follows the applied state in its gauges and logs each change with its reason, and the rollback as a warning', async () => {
    let m = parseMetrics(await scrape(proxy.adminUrl));
    expect(value(m, 'cutover_route_weight', { route: 'balance' })).toBe(100);
    expect(value(m, 'cutover_route_mode', { route: 'balance', mode: 'v2' })).toBe(1);
    expect(value(m, 'cutover_route_mode', { route: 'balance', mode: 'legacy' })).toBe(0);
    expect(value(m, 'cutover_route_mode', { route: 'statement', mode: 'legacy' })).toBe(1);
    expect(value(m, 'cutover_state_store_up')).toBe(1);
    expect(value(m, 'cutover_rollout_step')).toBe(0);
    const v0 = value(m, 'cutover_state_version')!;

    const mode = await changeState(store, { action: 'mode', route: 'statement', mode: 'canary' }, { by: 'obs-test', reason: 'canary the statements' });
    const weight = await changeState(store, { action: 'set-weight', route: 'statement', weight: 12.5 }, { by: 'obs-test', reason: 'ticket OBS-1: first slice' });
    expect((await waitForApplied(store, weight.state, 5000)).ok).toBe(true);
    m = parseMetrics(await scrape(proxy.adminUrl));
    expect(value(m, 'cutover_state_version')).toBe(weight.state.version);
    expect(weight.state.version).toBeGreaterThan(v0);
    expect(value(m, 'cutover_route_weight', { route: 'statement' })).toBe(12.5);
    expect(value(m, 'cutover_route_mode', { route: 'statement', mode: 'canary' })).toBe(1);

    const abort = await changeState(store, { action: 'abort' }, { by: 'on-call', reason: 'error rate 7 % on statement' });
    expect((await waitForApplied(store, abort.state, 5000)).ok).toBe(true);
    m = parseMetrics(await scrape(proxy.adminUrl));
    expect(value(m, 'cutover_rollout_aborted')).toBe(1);
    expect(value(m, 'cutover_route_weight', { route: 'balance' })).toBe(0);
    expect(value(m, 'cutover_route_mode', { route: 'balance', mode: 'legacy' })).toBe(1);

    // The log: JSON lines, parsed; the reason lines may follow the apply by a store read.
    let lines: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 50; i++) {
      lines = proxy.logLines();
      if (lines.some((l) => l.version === abort.state.version)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(proxy.otherLines()).toEqual([]);
    const byVersion = (v: number) => lines.filter((l) => l.version === v);
    expect(byVersion(mode.state.version)).toHaveLength(1);
    expect(byVersion(mode.state.version)[0]).toMatchObject({ level: 'info', msg: 'rollout state applied', action: 'mode', reason: 'canary the statements', by: 'obs-test' });
    expect(byVersion(weight.state.version)[0]).toMatchObject({
      level: 'info',
      action: 'set-weight',
      reason: 'ticket OBS-1: first slice',
      changes: [{ route: 'statement', from: 'canary 0', to: 'canary 12.5' }],
    });
    const rollback = byVersion(abort.state.version);
    expect(rollback).toHaveLength(1);
    expect(rollback[0]).toMatchObject({ level: 'warn', msg: 'rollout rolled back: every route to legacy', reason: 'error rate 7 % on statement', by: 'on-call' });
    for (const l of lines) expect(typeof l.time === 'string' && !Number.isNaN(Date.parse(l.time as string)), JSON.stringify(l)).toBe(true);
  });
});
