/**
 * Abort (and weight, mode) by service: a config whose routes move to three V2 services, two
 * proxies on one store, the CLI as a child process. `abort --upstream statements-v2` moves
 * exactly that service's routes to legacy (state, and what the proxies actually route) in one
 * state change whose history entry names the service and its routes; the other services' routes
 * still reach V2. A name that is no route's V2 side exits 2 naming --upstream and changes
 * nothing. The admin API takes `upstream` the same way. `status` shows each route's two sides.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import { runCutover, stopAll, tempDir } from '../helpers/processes.js';
import { adminJson, eventually, TOKEN } from './fleet.js';
import { sideServing, startServicesFleet, type ServicesFleet } from './services-fleet.js';

let fleet: ServicesFleet;
let store: StateStore;
let cli: string[];

beforeAll(async () => {
  const dir = tempDir('cutover-abort-service-');
  const stateUrl = `file://${join(dir, 'state.json')}`;
  fleet = await startServicesFleet(stateUrl, dir);
  await fleet.start(0);
  await fleet.start(1);
  store = openStateStore(stateUrl);
  cli = ['--config', fleet.cliConfig()];
  for (const p of fleet.proxies) {
    for (const path of ['/tx', '/statement', '/statement-pdf', '/wallet']) expect(await sideServing(p, path, 3)).toEqual({ legacy: 0, v2: 3 });
  }
}, 120_000);

afterAll(async () => {
  await store?.close();
  await fleet?.close();
  await stopAll();
});

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('cutover abort --upstream', { timeout: 180_000 }, () => {
  it('status shows each route as legacy -> its V2 service next to its mode and weight', async () => {
    const r = await runCutover(['status', ...cli]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ROUTE\s+SIDES \(LEGACY -> V2\)\s+MODE\s+WEIGHT\s+V2 SERVES/);
    expect(r.stdout).toMatch(/^statement\s+legacy -> statements-v2\s+canary\s+100\s+100 %$/m);
    expect(r.stdout).toMatch(/^wallet\s+legacy -> wallets-v2\s+canary/m);
    const j = await runCutover(['status', '--json', ...cli]);
    expect(JSON.parse(j.stdout).sides).toMatchObject({ tx: { legacy: 'legacy', v2: 'transactions-v2' }, 'statement-pdf': { legacy: 'legacy', v2: 'statements-v2' }, default: { v2: 'transactions-v2' } });
    // Without cutover.yaml the sides come from the replicas' heartbeats.
    const bare = await runCutover(['status', '--json', '--state', store.url]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout).sides.wallet).toEqual({ legacy: 'legacy', v2: 'wallets-v2' });
    // Through an admin plane: that proxy's own config says.
    const viaAdmin = await runCutover(['status', '--admin', fleet.proxies[1]!.adminUrl, '--token', TOKEN]);
    expect(viaAdmin.code, viaAdmin.stderr).toBe(0);
    expect(viaAdmin.stdout).toMatch(/^statement-pdf\s+legacy -> statements-v2\s+canary/m);
  });

  it('a name that is no route\'s V2 side exits 2 naming --upstream, the rule and the value, and changes nothing', async () => {
    const before = (await store.read())!.version;
    for (const [name, says] of [
      ['ledger-v2', '"ledger-v2" is the V2 side of no route'],
      ['legacy', '"legacy" is the legacy side of'],
    ] as const) {
      const r = await runCutover(['abort', '--upstream', name, '--reason', 'bad name', ...cli]);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain('--upstream: must name the V2 side of at least one route');
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain('V2 upstreams: transactions-v2 (tx, default), statements-v2 (statement, statement-pdf), wallets-v2 (wallet)');
      noStack(r.stderr);
    }
    // through an admin plane (that replica's config decides) the same
    const a = await runCutover(['abort', '--upstream', 'ledger-v2', '--reason', 'bad name', '--admin', fleet.proxies[0]!.adminUrl, '--token', TOKEN]);
    expect(a.code, a.stdout + a.stderr).toBe(2);
    expect(a.stderr).toContain('--upstream: must name the V2 side of at least one route');
    const w = await runCutover(['set-weight', '--upstream', 'nope-v2', '10', ...cli]);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--upstream:');
    expect((await store.read())!.version).toBe(before);
    const h = await adminJson(fleet.proxies[1]!, '/admin/abort', { method: 'POST', body: { reason: 'x', upstream: 'ledger-v2' } });
    expect(h.status).toBe(400);
    expect(h.body.error.message).toMatch(/^upstream: must name the V2 side of at least one route: "ledger-v2"/);
    const c = await adminJson(fleet.proxies[1]!, '/admin/change', { method: 'POST', body: { action: 'set-weight', weight: 0, upstream: 'ledger-v2' } });
    expect(c.status).toBe(400);
    expect(c.body.error.message).toMatch(/^upstream: must name the V2 side of at least one route: "ledger-v2"/);
    const p = await adminJson(fleet.proxies[1]!, '/admin/change', { method: 'POST', body: { action: 'pause', upstream: 'statements-v2' } });
    expect(p.status).toBe(400);
    expect(p.body.error.message).toContain('upstream: unknown field');
    expect((await store.read())!.version).toBe(before);
  });

  it('moves only that service\'s routes to legacy, in one version and one history entry, and the other services keep V2', async () => {
    const before = (await store.read())!;
    const seenBefore = fleet.seenAt('/statement').legacy;
    const r = await runCutover(['abort', '--upstream', 'statements-v2', '--reason', 'statements-v2 returns wrong totals', ...cli]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/abort applied: service statements-v2 \(routes statement, statement-pdf\) to legacy \(version \d+\); all 2 live replicas applied it/);
    const after = (await store.read())!;
    expect(after.version).toBe(before.version + 1);
    expect(after.aborted).toBe(true);
    expect(after.routes).toMatchObject({
      statement: { mode: 'legacy', weight: 0 },
      'statement-pdf': { mode: 'legacy', weight: 0 },
      tx: { mode: 'canary', weight: 100 },
      wallet: { mode: 'canary', weight: 100 },
    });
    const entries = (await store.history({ limit: 50 })).filter((e) => e.version > before.version);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'abort', reason: 'statements-v2 returns wrong totals', data: { upstream: 'statements-v2', routes: ['statement', 'statement-pdf'] } });
    expect(entries[0]!.changes.map((c) => c.path).sort()).toEqual(['abortReason', 'aborted', 'routes.statement-pdf.mode', 'routes.statement-pdf.weight', 'routes.statement.mode', 'routes.statement.weight']);
    const hist = await runCutover(['history', '--limit', '1', ...cli]);
    expect(hist.stdout).toMatch(/abort by .+ \(service statements-v2\): routes\.statement\.mode canary -> legacy/);
    // what the proxies route: the service's routes at legacy, every other route still at V2
    for (const p of fleet.proxies) {
      expect(await sideServing(p, '/statement', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/statement-pdf', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/tx', 5)).toEqual({ legacy: 0, v2: 5 });
      expect(await sideServing(p, '/wallet', 5)).toEqual({ legacy: 0, v2: 5 });
    }
    // counted at the origins: the monolith now answers the statements
    expect(fleet.seenAt('/statement').legacy - seenBefore).toBe(10);

    const j = await runCutover(['abort', '--upstream', 'statements-v2', '--reason', 'again', '--json', ...cli]);
    expect(JSON.parse(j.stdout)).toMatchObject({ command: 'abort', ok: true, upstream: 'statements-v2', routes: ['statement', 'statement-pdf'] });
  });

  it('set-weight, mode and promote --full take --upstream too: one change for the service\'s routes', async () => {
    const resumed = await runCutover(['resume', '--reason', 'statements fixed', ...cli]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const v0 = (await store.read())!.version;
    const w = await runCutover(['set-weight', '--upstream', 'statements-v2', '20', ...cli]);
    expect(w.code, w.stderr).toBe(0);
    let s = (await store.read())!;
    expect(s.version).toBe(v0 + 1);
    expect(s.routes.statement).toEqual({ mode: 'canary', weight: 20 });
    expect(s.routes['statement-pdf']).toEqual({ mode: 'canary', weight: 20 });
    expect(s.routes.wallet).toEqual({ mode: 'canary', weight: 100 });
    const [entry] = (await store.history({ limit: 1 })).slice(-1);
    expect(entry).toMatchObject({ action: 'set-weight', data: { upstream: 'statements-v2', routes: ['statement', 'statement-pdf'] } });
    // a jump past --max-step on any of the service's routes is refused and changes nothing
    const big = await runCutover(['mode', '--upstream', 'statements-v2', 'v2', ...cli]);
    expect(big.code).toBe(2);
    expect(big.stderr).toContain('mode: v2 sends all of statement to V2');
    expect((await store.read())!.version).toBe(v0 + 1);
    const m = await runCutover(['mode', '--upstream', 'wallets-v2', 'mirror', ...cli]);
    expect(m.code, m.stderr).toBe(0);
    // through the admin API, resolved by that replica's config
    const a = await adminJson(fleet.proxies[0]!, '/admin/change', { method: 'POST', body: { action: 'promote', full: true, upstream: 'statements-v2', by: 'test' } });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    s = (await store.read())!;
    expect(s.version).toBe(v0 + 3);
    expect(s.routes).toMatchObject({ statement: { mode: 'v2' }, 'statement-pdf': { mode: 'v2' }, wallet: { mode: 'mirror' }, tx: { mode: 'canary', weight: 100 } });
    const p = await runCutover(['promote', '--upstream', 'wallets-v2', ...cli]);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('--upstream: goes with --full');
    await eventually(async () => (await sideServing(fleet.proxies[1]!, '/statement', 3)).v2 === 3, 'p1 sends statement to V2 after the promote');
  });
});
