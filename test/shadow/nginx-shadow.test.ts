/**
 * `cutover shadow` behind a real nginx (Debian's), which serves clients from the demo legacy
 * service and mirrors every request to the shadow with `mirror` (the site is
 * examples/nginx/cutover-shadow.conf, with only its addresses changed). The shadow calls a
 * legacy replica and the demo V2, whose wrong-balance fault is on, and verifies each pair.
 * The shadow runs as its own process (`cutover shadow`) on a file store; `cutover run` drives
 * a plan against it as it would against proxies.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { accountId, startService, startServices, type RunningService, type RunningServices } from '../../services/index.js';
import { openStateStore, waitForApplied, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { freePort, ROOT, spawnCutover, stopAll, tempDir, waitForHttp, type Spawned } from '../helpers/processes.js';

let services: RunningServices;
let replica: RunningService;
let nginx: NginxHandle;
let shadow: Spawned;
let nginxUrl: string;
let adminUrl: string;
let stateUrl: string;
let store: StateStore;
let dir: string;
const agent = new Agent({ connections: 16, pipelining: 1 });

/**
 * The example site with its three addresses pointed at this test's processes, and nginx's
 * read timeout on the mirror raised from 1 s to 10 s: a machine running other suites beside
 * this one may not schedule the shadow within a second, and the hung-V2 test needs a timeout
 * nginx only reaches if the shadow waited for V2 (whose copies time out after 20 s here).
 */
export function exampleSite(legacyPort: number, shadowPort: number, listenPort: number): string {
  const site = readFileSync(join(ROOT, 'examples', 'nginx', 'cutover-shadow.conf'), 'utf8');
  const out = site
    .replace('server 127.0.0.1:4001;', `server 127.0.0.1:${legacyPort};`)
    .replace('server 127.0.0.1:8090;', `server 127.0.0.1:${shadowPort};`)
    .replace('listen 127.0.0.1:8000;', `listen 127.0.0.1:${listenPort};`)
    .replace('proxy_read_timeout 1s;', 'proxy_read_timeout 10s;');
  expect(out.match(/127\.0\.0\.1:(4001|8090|8000);|proxy_read_timeout 1s/g)).toBeNull();
  return out;
}

async function get(base: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const r = await request(`${base}${path}`, { dispatcher: agent, headers: { 'x-api-key': 'demo-key-full' } });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
}

async function admin(path: string): Promise<any> {
  const r = await fetch(`${adminUrl}${path}`);
  expect(r.status, path).toBe(200);
  return r.json();
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function setBalanceMode(mode: 'legacy' | 'mirror'): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cur = (await store.read())!;
    const { version: _v, plan: _p, abortReason: _a, ...rest } = cur;
    const next: Omit<RolloutState, 'version'> = { ...rest, routes: { ...cur.routes, balance: { mode, weight: 0 } }, paused: false, aborted: false };
    try {
      const written = await store.compareAndSet(cur.version, next, { by: 'shadow-test', action: 'resume', reason: 'reset between tests' });
      expect((await waitForApplied(store, written, 5000)).ok).toBe(true);
      return;
    } catch (err) {
      if (attempt > 5) throw err;
    }
  }
}

/** asOf and requestId change on every call; the rest of legacy's answer is the same bytes. */
const stable = (body: string) => body.replace(/"asOf":"[^"]+","requestId":"[^"]+"/, '');

beforeAll(async () => {
  dir = tempDir('cutover-shadow-nginx-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  services = await startServices({ legacyPort: 0, v2Port: 0, faults: { v2: { wrongBalanceShare: 0.3 } } });
  // A second legacy on the same ledger: the shadow's legacy calls go there, not to the one nginx serves from.
  replica = await startService('legacy', { legacyPort: 0, ledger: services.ledger });
  const [shadowPort, adminPort, nginxPort] = [await freePort(), await freePort(), await freePort()];
  adminUrl = `http://127.0.0.1:${adminPort}`;
  nginxUrl = `http://127.0.0.1:${nginxPort}`;
  const config = join(dir, 'cutover.yaml');
  writeFileSync(
    config,
    `upstreams: { legacy: ${services.legacy.url}, v2: ${services.v2.url}, legacyReplica: ${replica.url} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:${adminPort} }
shadow: { listen: 127.0.0.1:${shadowPort}, requireCopyMark: true }
state: ${stateUrl}
replicaId: shadow-under-nginx
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    mirror: { timeoutMs: 20000 }
    compare:
      ignore: [/asOf, /requestId, /schemaVersion, /links]
      decimal: [/balance, /available, /holds/*/amount]
      timestamp: [/holds/*/createdAt, /holds/*/expiresAt]
      unorderedArrays: { /holds: id }
  - name: post-transaction
    match: { method: POST, path: /transactions }
    mode: mirror
stats: { windowSeconds: 30 }
`,
  );
  shadow = spawnCutover(['shadow', '--config', config]);
  await shadow.waitForOutput(/^ready:/m, 90_000);
  await waitForHttp(`${adminUrl}/readyz`, 10_000, 200);
  store = openStateStore(stateUrl);
  nginx = await startNginx(exampleSite(services.legacy.port, shadowPort, nginxPort), `${nginxUrl}/healthz`);
}, 180_000);

afterAll(async () => {
  await nginx?.stop().catch(() => undefined);
  await store?.close();
  await stopAll();
  await agent.close();
  await replica?.close();
  await services?.close();
});

beforeEach(async () => {
  services.v2.service.faults.merge({ latencyMs: 0 });
  await setBalanceMode('mirror');
});

describe('cutover shadow behind nginx mirror', { timeout: 120_000 }, () => {
  it("finds V2's wrong balances at /balance with examples, while nginx's clients get legacy's answers unchanged", async () => {
    const before = (await (await fetch(`${services.legacy.url}/_admin/requests`)).json()).byRoute['GET /accounts/:accountId/balance']?.count ?? 0;
    for (let i = 1; i <= 120; i++) {
      const path = `/accounts/${accountId(i)}/balance`;
      const [viaNginx, direct] = await Promise.all([get(nginxUrl, path), get(services.legacy.url, path)]);
      expect(viaNginx.status).toBe(direct.status);
      expect(stable(viaNginx.body)).toBe(stable(direct.body));
      // The answer is legacy's own (its request id), not a copy the shadow made.
      expect(JSON.parse(viaNginx.body).requestId).toBe(viaNginx.headers['x-request-id']);
      expect(viaNginx.headers['x-cutover-upstream']).toBeUndefined();
    }
    const summary = await waitFor('a /balance finding', async () => {
      const s = await admin('/admin/diffs/summary');
      const route = s.aggregate.routes.find((r: any) => r.route === 'balance');
      return route?.paths.some((p: any) => p.path === '/balance' && p.examples.length > 0) && route.pairs >= 120 ? route : undefined;
    });
    const finding = summary.paths.find((p: any) => p.path === '/balance');
    expect(finding.count).toBeGreaterThan(0);
    expect(finding.kind).toBe('value');
    const ex = finding.examples[0];
    expect(ex.path).toMatch(/^\/accounts\/A-\d+\/balance$/);
    expect(ex.legacy).not.toEqual(ex.v2);
    // The accounts V2 gets right match: far from every pair is a mismatch.
    expect(summary.match).toBeGreaterThan(0);
    // Each client request reached the legacy nginx serves once (120 direct + 120 via nginx); the shadow called the replica.
    const after = (await (await fetch(`${services.legacy.url}/_admin/requests`)).json()).byRoute['GET /accounts/:accountId/balance'].count;
    expect(after - before).toBe(240);
    const replicaCount = (await (await fetch(`${replica.url}/_admin/requests`)).json()).byRoute['GET /accounts/:accountId/balance'].count;
    expect(replicaCount).toBeGreaterThanOrEqual(120);
    // The stats window the plan runner reads: pairs, mismatches, legacy's baseline, V2's copies.
    const stats = await admin('/admin/stats?window=30s');
    expect(stats.replicaId).toBe('shadow-under-nginx');
    expect(stats.routes.balance.diffs.mismatch).toBeGreaterThan(0);
    expect(stats.routes.balance.served.legacy.requests).toBeGreaterThanOrEqual(120);
    expect(stats.routes.balance.shadow.sent).toBeGreaterThanOrEqual(120);
    const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/cutover_diffs_total\{route="balance",result="mismatch"\} [1-9]/);
    expect(metrics).toMatch(/cutover_shadow_accepted_total [1-9]/);
  });

  it('a POST through nginx is applied once, by legacy: the shadow refuses the copy (the route does not opt in)', async () => {
    const id = accountId(9);
    const account = await (await fetch(`${services.legacy.url}/accounts/${id}/balance`)).json();
    const key = `shadow-test-${Date.now()}`;
    const v2Before = (await (await fetch(`${services.v2.url}/_admin/requests`)).json()).byRoute['POST /transactions']?.count ?? 0;
    const r = await request(`${nginxUrl}/transactions`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-api-key': 'demo-key-full' },
      body: JSON.stringify({ accountId: id, type: 'credit', amount: '1.00', currency: account.currency }),
    });
    expect(r.statusCode).toBe(201);
    await r.body.dump();
    await waitFor('the refused copy to be counted', async () => (await admin('/admin/stats?window=30s')).routes['post-transaction'].shadow.skippedUnsafe >= 1);
    expect(services.ledger.postings().filter((p) => p.idempotencyKey === key)).toHaveLength(1);
    const v2After = (await (await fetch(`${services.v2.url}/_admin/requests`)).json()).byRoute['POST /transactions']?.count ?? 0;
    expect(v2After).toBe(v2Before);
    const replicaPosts = (await (await fetch(`${replica.url}/_admin/requests`)).json()).byRoute['POST /transactions']?.count ?? 0;
    expect(replicaPosts).toBe(0);
  });

  it('a request without the copy mark is refused with 403 naming the header; nothing is called', async () => {
    const shadowUrl = shadow.output().match(/shadow target listening on (http:\/\/\S+)/)![1];
    const r = await request(`${shadowUrl}/accounts/${accountId(3)}/balance`, { dispatcher: agent });
    expect(r.statusCode).toBe(403);
    const body = (await r.body.json()) as any;
    expect(body.error.code).toBe('CUTOVER_ERR_SHADOW_NOT_A_COPY');
    expect(body.error.message).toContain('x-cutover-mirror');
    const marked = await request(`${shadowUrl}/accounts/${accountId(3)}/balance`, { dispatcher: agent, headers: { host: 'accounts.internal-shadow' } });
    expect(marked.statusCode).toBe(202);
    await marked.body.dump();
  });

  it('a hung V2 does not hold up nginx: every client is answered by legacy and the shadow answered every copy at once', async () => {
    services.v2.service.faults.merge({ latencyMs: 60_000 });
    const before = (await admin('/healthz')).shadow;
    const answers = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const r = await get(nginxUrl, `/accounts/${accountId(200 + i)}/balance`);
        return r;
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.every((a) => JSON.parse(a.body).requestId === a.headers['x-request-id'])).toBe(true);
    const after = await waitFor('every copy to reach the shadow', async () => {
      const h = (await admin('/healthz')).shadow;
      return h.received - before.received >= 80 ? h : undefined;
    });
    expect(after.accepted - before.accepted).toBeGreaterThanOrEqual(80);
    await waitFor(
      'V2 copies to time out',
      async () => {
        const s = (await admin('/admin/stats?window=30s')).routes.balance.shadow;
        return s.timeouts + s.suspended > 0;
      },
      60_000,
    );
    // Had the shadow waited for V2, nginx would have given up on those mirror subrequests (proxy_read_timeout) and logged it.
    expect(nginx.errorLog()).not.toMatch(/timed out/);
  });

  it('cutover run with a mismatchRate gate rolls back from the shadow\'s aggregates, and the shadow then stops calling V2', async () => {
    await setBalanceMode('legacy');
    const plan = join(dir, 'plan.yaml');
    writeFileSync(
      plan,
      `routes: [balance]
steps:
  - mirror: 1m
analysis:
  interval: 1s
  minRequests: 20
  failureLimit: 2
  thresholds:
    mismatchRate: { max: 0.01 }
leaseTtl: 2s
`,
    );
    let stop = false;
    let i = 0;
    const load = (async () => {
      while (!stop) {
        await Promise.all(Array.from({ length: 8 }, () => get(nginxUrl, `/accounts/${accountId(1 + (i++ % 500))}/balance`)));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const driver = spawnCutover(['run', plan, '--state', stateUrl, '--json', '--by', 'shadow-e2e']);
    let code: number | string;
    try {
      code = await driver.exited;
    } finally {
      stop = true;
      await load;
    }
    const ev = driver
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(code, driver.output()).toBe(1);
    const rollback = ev.find((e) => e.type === 'rollback');
    expect(rollback.reason).toMatch(/^mismatchRate 0\.\d+ > 0.01 \(\d+\/\d+ compared pairs\) on route balance in mirror/);
    expect(rollback.applied).toBe(true);
    expect(ev.filter((e) => e.type === 'check').every((c) => c.replicas.includes(adminUrl))).toBe(true);
    const s = (await store.read())!;
    expect(s.aborted).toBe(true);
    expect(s.routes.balance.mode).toBe('legacy');
    // After the abort the shadow takes no copy of the route: V2 gets nothing more.
    const v2Before = (await (await fetch(`${services.v2.url}/_admin/requests`)).json()).byRoute['GET /accounts/:accountId/balance'].count;
    const skippedBefore = (await admin('/healthz')).shadow.skipped['route-in-legacy-mode'];
    for (let k = 0; k < 20; k++) expect((await get(nginxUrl, `/accounts/${accountId(k + 1)}/balance`)).status).toBe(200);
    await waitFor('copies skipped as legacy-mode', async () => (await admin('/healthz')).shadow.skipped['route-in-legacy-mode'] - skippedBefore >= 20);
    const v2After = (await (await fetch(`${services.v2.url}/_admin/requests`)).json()).byRoute['GET /accounts/:accountId/balance'].count;
    expect(v2After).toBe(v2Before);
  });
});
