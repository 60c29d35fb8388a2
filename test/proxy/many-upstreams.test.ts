/**
 * One legacy and several V2 services behind one proxy (issue #19): each route goes to its own
 * named upstreams, through a pool per upstream; stats and metrics are split by upstream name and
 * merge exactly across replicas (compared with what the services themselves counted).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { mergeSnapshots } from '../../rollout-cli/plan/merge-stats.js';
import { parseConfigText } from '../../shared/config.js';
import type { MirroredPair } from '../../shared/pairs.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { tempDir } from '../helpers/processes.js';
import { parseMetrics, startCliProxy, type ProxyProcess, type Sample } from '../observability/fixtures.js';
import { writeFileSync } from 'node:fs';
import { rawRequest, startOrigin, waitFor, type Origin } from './origins.js';

const SERVICES = ['legacy', 'transactions-v2', 'statements-v2', 'wallets-v2'] as const;
type Service = (typeof SERVICES)[number];

// transactions: extracted to transactions-v2, canary 50 % sticky by account
// statements:   extracted to statements-v2, fully moved
// wallets:      mirrored to wallets-v2
// transfers:    moves between two new services (transactions-v2 -> wallets-v2), canary 50 % sticky by id
const ROUTES = `
  - name: transactions
    match: { method: GET, path: /accounts/:accountId/transactions }
    v2: transactions-v2
    mode: canary
    weight: 50
    stickyBy: param:accountId
  - name: statements
    match: { method: GET, path: /accounts/:accountId/statements }
    v2: statements-v2
    mode: v2
  - name: wallets
    match: { method: GET, path: /wallets/:walletId }
    v2: wallets-v2
    mode: mirror
  - name: transfers
    match: { method: GET, path: /transfers/:transferId }
    legacy: transactions-v2
    v2: wallets-v2
    mode: canary
    weight: 50
    stickyBy: param:transferId
`;

const origins = {} as Record<Service, Origin>;
const proxies: RunningProxy[] = [];

function configText(stateFile: string, extraUpstreams = '', extraRoutes = ''): string {
  return `upstreams:
  legacy: ${origins.legacy.url}
  transactions-v2: ${origins['transactions-v2'].url}
  statements-v2: ${origins['statements-v2'].url}
  wallets-v2: ${origins['wallets-v2'].url}
${extraUpstreams}
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: file://${stateFile}
defaultRoute: { v2: statements-v2 }
routes:
${ROUTES}${extraRoutes}`;
}

async function proxyFrom(text: string): Promise<RunningProxy> {
  const p = await startProxy({ config: parseConfigText(text, 'many.yaml', {}), log: { log() {} } });
  proxies.push(p);
  return p;
}

const served = (body: Buffer) => JSON.parse(body.toString()).served as string;

/** Requests each service answered on a path prefix (its own count, not the proxy's). */
const seenAt = (s: Service, prefix: string) => origins[s].seen.filter((x) => x.url.startsWith(prefix)).length;

type Replica = { adminUrl: string };

async function stats(p: Replica): Promise<StatsSnapshot> {
  return (await (await fetch(`${p.adminUrl}/admin/stats?window=300s`)).json()) as StatsSnapshot;
}

async function metrics(p: Replica): Promise<Sample[]> {
  return parseMetrics(await (await fetch(`${p.adminUrl}/metrics`)).text());
}

function sum(samples: Sample[], name: string, labels: Record<string, string>): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** `n` requests, `concurrency` at a time, each path from `path(i)`; returns the answers in order. */
async function load(base: string, n: number, concurrency: number, path: (i: number) => string) {
  const out: Array<{ path: string; status: number; side: string; served: string }> = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const p = path(i);
        const r = await rawRequest(base, { path: p });
        out[i] = { path: p, status: r.status, side: String(r.headers['x-cutover-upstream']), served: served(r.body) };
      }
    }),
  );
  return out;
}

const PATHS = (i: number) => {
  const key = `K-${i % 40}`;
  switch (i % 5) {
    case 0:
      return `/accounts/${key}/transactions`;
    case 1:
      return `/accounts/${key}/statements`;
    case 2:
      return `/wallets/${key}`;
    case 3:
      return `/transfers/${key}`;
    default:
      return `/members/${key}`;
  }
};

let a: ProxyProcess;
let b: ProxyProcess;

beforeAll(async () => {
  for (const s of SERVICES) origins[s] = await startOrigin(s);
  // Two replicas of one config, each its own process (as in production), sharing one state.
  const dir = tempDir();
  writeFileSync(`${dir}/cutover.yaml`, configText(`${dir}/state.json`));
  [a, b] = await Promise.all([startCliProxy(`${dir}/cutover.yaml`), startCliProxy(`${dir}/cutover.yaml`)]);
}, 90_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  for (const p of proxies) await p.close().catch(() => undefined);
  for (const s of SERVICES) await origins[s]?.close();
});

describe('many V2 services behind one proxy', () => {
  it('sends each route to its own services, keeps canary keys sticky per route, mirrors to the route V2, and counts by service exactly across replicas', async () => {
    const ra = await load(a.dataUrl, 600, 16, PATHS);
    const rb = await load(b.dataUrl, 300, 8, PATHS);
    const all = [...ra, ...rb];
    expect(all.every((r) => r.status === 200)).toBe(true);

    // Each route reached its own service on each side (the service says who it is).
    const expected: Record<string, Record<string, Service>> = {
      '/accounts/K-x/transactions': { legacy: 'legacy', v2: 'transactions-v2' },
      '/accounts/K-x/statements': { v2: 'statements-v2' },
      '/wallets/K-x': { legacy: 'legacy' },
      '/transfers/K-x': { legacy: 'transactions-v2', v2: 'wallets-v2' },
      '/members/K-x': { legacy: 'legacy' },
    };
    for (const r of all) {
      const shape = r.path.replace(/K-\d+/, 'K-x');
      expect(expected[shape]![r.side], `${r.path} via ${r.side}`).toBe(r.served);
    }

    // Sticky per route: one key, one side on each route, on both replicas; both sides used.
    for (const route of ['/accounts/K-x/transactions', '/transfers/K-x']) {
      const sideOf = new Map<string, Set<string>>();
      for (const r of all.filter((x) => x.path.replace(/K-\d+/, 'K-x') === route)) {
        const key = /K-\d+/.exec(r.path)![0];
        (sideOf.get(key) ?? sideOf.set(key, new Set()).get(key)!).add(r.side);
      }
      expect([...sideOf.values()].every((s) => s.size === 1), route).toBe(true);
      const sides = new Set([...sideOf.values()].flatMap((s) => [...s]));
      expect(sides, route).toEqual(new Set(['legacy', 'v2']));
    }
    // Buckets are per route: the same keys do not land on the same sides on both canary routes.
    const sideByKey = (route: string) => new Map(all.filter((x) => x.path.replace(/K-\d+/, 'K-x') === route).map((r) => [/K-\d+/.exec(r.path)![0], r.side]));
    const tx = sideByKey('/accounts/K-x/transactions');
    const tr = sideByKey('/transfers/K-x');
    expect([...tx].some(([k, s]) => tr.get(k) !== s)).toBe(true);

    // Mirror copies of the wallets route reach wallets-v2 (and only it).
    const wallets = all.filter((r) => r.path.startsWith('/wallets/')).length;
    await waitFor(() => seenAt('wallets-v2', '/wallets/') === wallets, 30_000);
    for (const s of ['legacy', 'transactions-v2', 'statements-v2'] as const) expect(seenAt(s, '/wallets/') === (s === 'legacy' ? wallets : 0), s).toBe(true);

    // Stats by service, merged across the two replicas, equal what each service counted
    // (wallets-v2's mirror copies are not served requests, so its own count is on /transfers only).
    const merged = mergeSnapshots([await stats(a), await stats(b)]);
    const servedAt: Record<Service, number> = {
      legacy: origins.legacy.seen.length,
      'transactions-v2': origins['transactions-v2'].seen.length,
      'statements-v2': origins['statements-v2'].seen.length,
      'wallets-v2': seenAt('wallets-v2', '/transfers/'),
    };
    expect(servedAt['transactions-v2']).toBeGreaterThan(0);
    for (const s of SERVICES) {
      expect(merged.byUpstream?.[s]?.requests, `stats of ${s}`).toBe(servedAt[s]);
      expect(merged.byUpstream?.[s]?.latency.count, `latency of ${s}`).toBe(servedAt[s]);
    }
    expect(merged.routes.transfers!.upstreams).toEqual({ legacy: 'transactions-v2', v2: 'wallets-v2' });
    expect(merged.routes.statements!.upstreams).toEqual({ legacy: 'legacy', v2: 'statements-v2' });
    expect(merged.routes.transfers!.served.legacy.requests).toBe(seenAt('transactions-v2', '/transfers/'));
    expect(merged.routes.wallets!.shadow.sent).toBe(wallets);

    // /metrics: the upstream label is the service; replicas add up to the services' counts.
    const [ma, mb] = [await metrics(a), await metrics(b)];
    for (const s of SERVICES) {
      expect(sum(ma, 'cutover_requests_total', { upstream: s }) + sum(mb, 'cutover_requests_total', { upstream: s }), `metrics of ${s}`).toBe(servedAt[s]);
    }
    expect(sum(ma, 'cutover_requests_total', { upstream: 'v2' })).toBe(0);
    const info = ma.filter((x) => x.name === 'cutover_route_upstream_info');
    expect(info.find((x) => x.labels.route === 'transfers' && x.labels.side === 'legacy')?.labels.upstream).toBe('transactions-v2');
    expect(info.find((x) => x.labels.route === 'transfers' && x.labels.side === 'v2')?.labels.upstream).toBe('wallets-v2');
    // Label values are bounded by the config: routes (4 + default) x 2 sides.
    expect(info.length).toBe(10);
    expect(new Set(ma.filter((x) => x.name === 'cutover_requests_total').map((x) => `${x.labels.route}/${x.labels.upstream}`)).size).toBe(10);
  }, 120_000);

  it('names the failing service in the error and keeps x-cutover-upstream the side', async () => {
    const down = `http://127.0.0.1:${await (async () => {
      const s = http.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      const port = (s.address() as AddressInfo).port;
      await new Promise<void>((r) => s.close(() => r()));
      return port;
    })()}`;
    const p = await proxyFrom(
      configText(`${tempDir()}/state.json`, `  members-v2: ${down}`, `
  - name: members
    match: { method: GET, path: /members/:id }
    v2: members-v2
    mode: v2
`),
    );
    const r = await rawRequest(p.dataUrl, { path: '/members/M-1' });
    expect(r.status).toBe(502);
    expect(r.headers['x-cutover-upstream']).toBe('v2');
    expect(JSON.parse(r.body.toString()).error.message).toMatch(/^upstream members-v2 /);
  });
});

describe('mirror pairs by service', () => {
  it("copies to the route's V2, asks the replica of the route's own legacy side, and names both services on the pair", async () => {
    const replica = await startOrigin('transactions-v2-replica');
    const pairs: MirroredPair[] = [];
    const sink = { offer: (p: MirroredPair) => (pairs.push(p), true) };
    try {
      const text = configText(`${tempDir()}/state.json`, `  ledger: { url: ${origins['transactions-v2'].url}, legacyReplica: ${replica.url} }`, `
  - name: ledger
    match: { method: GET, path: /ledger/:id }
    legacy: ledger
    v2: wallets-v2
    mode: mirror
`).replace('listen:', 'verifier: { noise: { replicaSample: 100 } }\nlisten:');
      const p = await startProxy({ config: parseConfigText(text, 'many.yaml', {}), pairSink: sink, log: { log() {} } });
      proxies.push(p);
      const before = { legacy: seenAt('legacy', '/'), wallets: seenAt('wallets-v2', '/ledger/') };
      for (let i = 0; i < 5; i++) expect(served((await rawRequest(p.dataUrl, { path: `/ledger/${i}` })).body)).toBe('transactions-v2');
      for (let i = 0; i < 5; i++) await rawRequest(p.dataUrl, { path: `/wallets/${i}` });
      await waitFor(() => pairs.length === 10, 30_000);
      const ledger = pairs.filter((x) => x.route === 'ledger');
      expect(ledger.map((x) => [x.legacyUpstream, x.v2Upstream])).toEqual(Array(5).fill(['ledger', 'wallets-v2']));
      // Every ledger pair was sampled for noise: the replica of ledger answered it.
      expect(ledger.every((x) => x.replica?.status === 200)).toBe(true);
      expect(replica.seen.length).toBe(5);
      expect(seenAt('wallets-v2', '/ledger/') - before.wallets).toBe(5);
      // The wallets route's legacy side (legacy) has no replica: its pairs have none.
      const wallets = pairs.filter((x) => x.route === 'wallets');
      expect(wallets.map((x) => [x.legacyUpstream, x.v2Upstream, x.replica])).toEqual(Array(5).fill(['legacy', 'wallets-v2', undefined]));
      expect(seenAt('legacy', '/') - before.legacy).toBe(5);
    } finally {
      await replica.close();
    }
  }, 60_000);
});

describe('per-upstream settings', () => {
  it("cuts a route's timeout to its upstream's timeoutMs", async () => {
    const slow = await startOrigin('slow-v2', { delayMs: 3000 });
    try {
      const p = await proxyFrom(
        configText(`${tempDir()}/state.json`, `  slow-v2: { url: ${slow.url}, timeoutMs: 200 }`, `
  - name: slow
    match: { method: GET, path: /slow/:id }
    v2: slow-v2
    mode: v2
    timeoutMs: 20000
  - name: patient
    match: { method: GET, path: /patient/:id }
    legacy: slow-v2
    v2: wallets-v2
    mode: legacy
    timeoutMs: 20000
`),
      );
      const r = await rawRequest(p.dataUrl, { path: '/slow/1' });
      expect(r.status).toBe(504);
      expect(JSON.parse(r.body.toString()).error.message).toMatch(/^upstream slow-v2 /);
      // The cap is the upstream's: another route on the same service is cut too, whatever its side.
      const r2 = await rawRequest(p.dataUrl, { path: '/patient/1' });
      expect(r2.status).toBe(504);
      // A route to another service keeps its own timeout (the slow service is not asked).
      const ok = await rawRequest(p.dataUrl, { path: '/accounts/A-1/statements' });
      expect(ok.status).toBe(200);
    } finally {
      await slow.close();
    }
  }, 60_000);

  it("holds at most the upstream's own pool size of requests in flight to it", async () => {
    const narrow = await startCountingService('narrow-v2', 300);
    const wide = await startCountingService('wide-v2', 300);
    try {
      const p = await proxyFrom(
        configText(`${tempDir()}/state.json`, `  narrow-v2: { url: ${narrow.url}, connections: 2 }\n  wide-v2: ${wide.url}`, `
  - name: narrow
    match: { method: GET, path: /narrow/:id }
    v2: narrow-v2
    mode: v2
  - name: wide
    match: { method: GET, path: /wide/:id }
    v2: wide-v2
    mode: v2
`),
      );
      const [n, w] = await Promise.all([load(p.dataUrl, 24, 12, (i) => `/narrow/${i}`), load(p.dataUrl, 24, 12, (i) => `/wide/${i}`)]);
      expect([...n, ...w].every((r) => r.status === 200 && r.side === 'v2')).toBe(true);
      expect(narrow.count).toBe(24);
      // Pipelining is off: requests in flight at the service = connections the proxy holds to it.
      expect(narrow.peak).toBe(2);
      expect(wide.peak).toBeGreaterThan(2);
    } finally {
      await narrow.close();
      await wide.close();
    }
  }, 60_000);
});

/** A service that answers after `delayMs` and counts requests in flight at once (its peak). */
async function startCountingService(name: string, delayMs: number) {
  let inFlight = 0;
  const svc = { url: '', count: 0, peak: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  const server = http.createServer((req, res) => {
    svc.count++;
    svc.peak = Math.max(svc.peak, ++inFlight);
    req.resume();
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ served: name }));
    }, delayMs);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  svc.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return svc;
}
