/**
 * Break-glass abort of one service: two proxies on Redis serve routes of three V2 services at
 * canary 100; Redis is frozen (SIGSTOP: every command times out); `cutover abort --upstream statements-v2 --admin ... --admin ...`
 * (no cutover.yaml: each replica resolves the service with its own config) must leave exactly
 * that service's routes at legacy on every replica, the others at V2; each replica keeps the set
 * of routes on its disk (override.json); a second service's abort (through cutover.yaml's
 * breakGlass.admins) adds its routes to that set; when Redis answers again the store gets one abort
 * naming the services and their routes. A bad name exits 2 and changes nothing, store down or not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../shared/state/index.js';
import { runCutover, startRedis, stopAll } from '../helpers/processes.js';
import { adminJson, eventually, TOKEN } from './fleet.js';
import { sideServing, startServicesFleet, type ServicesFleet } from './services-fleet.js';

const fleets: ServicesFleet[] = [];

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.close()));
  await stopAll();
});

describe('break-glass abort by service', () => {
  it('Redis not answering: only the service\'s routes go to legacy on every replica, kept on disk, written to the store as one abort when it is back', { timeout: 180_000 }, async () => {
    const redis = await startRedis();
    const fleet = await startServicesFleet(redis.url);
    fleets.push(fleet);
    await fleet.start(0);
    await fleet.start(1);
    for (const p of fleet.proxies) expect(await sideServing(p, '/statement', 3)).toEqual({ legacy: 0, v2: 3 });
    const admins = fleet.proxies.flatMap((p) => ['--admin', p.adminUrl]);
    // Frozen rather than killed: its port stays taken, so no other test's Redis (tests run in
    // parallel) can start on it and answer for it.
    process.kill(redis.proc.pid, 'SIGSTOP');

    const bad = await runCutover(['abort', '--upstream', 'ledger-v2', '--reason', 'typo', '--token', TOKEN, ...admins]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toContain('--upstream: must name the V2 side of at least one route: "ledger-v2"');
    for (const p of fleet.proxies) {
      expect((await adminJson(p, '/healthz')).body.breakGlass).toBeNull();
      expect(await sideServing(p, '/statement', 3)).toEqual({ legacy: 0, v2: 3 });
    }

    const r = await runCutover(['abort', '--upstream', 'statements-v2', '--reason', 'statements-v2 loses pages', '--by', 'oncall-cy', '--token', TOKEN, ...admins]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/state store bypassed: /);
    expect(r.stdout).toMatch(/abort applied \(break-glass\): service statements-v2 \(routes statement, statement-pdf\) to legacy on 2 of 2 replicas/);
    for (const p of fleet.proxies) {
      expect(await sideServing(p, '/statement', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/statement-pdf', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/tx', 5)).toEqual({ legacy: 0, v2: 5 });
      expect(await sideServing(p, '/wallet', 5)).toEqual({ legacy: 0, v2: 5 });
      const h = (await adminJson(p, '/healthz')).body;
      expect(h.breakGlass).toMatchObject({ reason: 'statements-v2 loses pages', routes: ['statement', 'statement-pdf'], upstreams: ['statements-v2'], synced: false });
    }
    const onDisk = JSON.parse(readFileSync(join(fleet.dir, 'local-0', 'override.json'), 'utf8'));
    expect(onDisk).toMatchObject({ reason: 'statements-v2 loses pages', routes: ['statement', 'statement-pdf'], upstreams: ['statements-v2'] });

    // A second service, through cutover.yaml's breakGlass.admins this time: the replicas add its
    // routes to the set they hold; the first service's routes stay at legacy.
    const cfg = fleet.cliConfig(undefined, fleet.proxies.map((p) => p.adminUrl));
    const second = await runCutover(['abort', '--config', cfg, '--upstream', 'wallets-v2', '--reason', 'wallets-v2 double-debits', '--by', 'oncall-cy']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toMatch(/abort applied \(break-glass\): service wallets-v2 \(route wallet\) to legacy on 2 of 2 replicas/);
    expect(second.stdout).toContain('with the local aborts taken before, they hold statement, statement-pdf, wallet at legacy');
    for (const p of fleet.proxies) {
      expect(await sideServing(p, '/wallet', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/statement', 5)).toEqual({ legacy: 5, v2: 0 });
      expect(await sideServing(p, '/tx', 5)).toEqual({ legacy: 0, v2: 5 });
      expect((await adminJson(p, '/healthz')).body.breakGlass).toMatchObject({ routes: ['statement', 'statement-pdf', 'wallet'], upstreams: ['statements-v2', 'wallets-v2'] });
    }

    process.kill(redis.proc.pid, 'SIGCONT');
    const store = openStateStore(redis.url);
    try {
      const s = await eventually(async () => {
        const st = await store.read().catch(() => undefined);
        return st?.aborted && st.abortReason === 'wallets-v2 double-debits' ? st : undefined;
      }, 'the store shows the service abort', 30_000);
      expect(s.routes).toMatchObject({
        statement: { mode: 'legacy', weight: 0 },
        'statement-pdf': { mode: 'legacy', weight: 0 },
        wallet: { mode: 'legacy', weight: 0 },
        tx: { mode: 'canary', weight: 100 },
      });
      const aborts = (await store.history({ limit: 50 })).filter((e) => e.action === 'abort');
      expect(aborts).toHaveLength(1);
      expect(aborts[0]).toMatchObject({ by: 'oncall-cy', data: { breakGlass: true, upstreams: ['statements-v2', 'wallets-v2'], routes: ['statement', 'statement-pdf', 'wallet'] } });
      for (const p of fleet.proxies) {
        await eventually(async () => (await adminJson(p, '/healthz')).body.breakGlass?.synced === true, `${p.replicaId} says its override is in the store`);
        expect(await sideServing(p, '/tx', 3)).toEqual({ legacy: 0, v2: 3 });
      }
    } finally {
      await store.close();
    }
  });
});
