/**
 * Plans that name services (`upstreams: [...]`): the driver (`cutover run`, its own process)
 * with a cutover.yaml whose routes move to three V2 services, a file store, and a stats stub
 * (real HTTP, scripted per-route numbers: the judgment must be exact). A plan naming a service
 * ramps only that service's routes; a run where one service's route fails rolls back and names
 * that service (and not the healthy one); an unknown service is a plan error naming the field.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import { runCutover, stopAll, tempDir } from '../helpers/processes.js';
import { SERVICE_ROUTES, servicesYaml } from '../state/services-fleet.js';
import { routeStats, snapshot } from './fixtures.js';
import { startStatsStub, type StatsStub } from './stats-stub.js';

let dir: string;
let stateUrl: string;
let store: StateStore;
let stub: StatsStub;
let config: string;

const healthy = () => routeStats({ v2: { requests: 500 }, legacy: { requests: 500 } });

beforeEach(async () => {
  dir = tempDir('cutover-run-services-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  store = openStateStore(stateUrl);
  const legacy = { mode: 'legacy' as const, weight: 0 };
  await store.compareAndSet(
    0,
    { schemaVersion: 1, routes: { tx: legacy, statement: legacy, 'statement-pdf': legacy, wallet: legacy, default: legacy }, paused: false, aborted: false, updatedBy: 'test', updatedAt: new Date().toISOString() },
    { by: 'test', action: 'init' },
  );
  config = join(dir, 'cutover.yaml');
  writeFileSync(
    config,
    servicesYaml({
      legacy: 'http://127.0.0.1:4001',
      v2: { 'transactions-v2': 'http://127.0.0.1:4011', 'statements-v2': 'http://127.0.0.1:4012', 'wallets-v2': 'http://127.0.0.1:4013' },
      state: stateUrl,
      local: join(dir, 'local'),
      routes: SERVICE_ROUTES.map((r) => ({ ...r, mode: 'legacy', weight: 0 })),
    }),
  );
  stub = await startStatsStub();
  stub.set(() => snapshot({ tx: healthy(), statement: healthy(), 'statement-pdf': healthy(), wallet: healthy() }));
});

afterEach(async () => {
  await stopAll();
  await stub.close();
  await store.close();
});

afterAll(stopAll);

function writePlan(body: string): string {
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, `${body}\nanalysis:\n  interval: 200ms\n  minRequests: 100\n  thresholds: { errorRate: { max: 0.01 } }\nleaseTtl: 2s\nadmin: [${stub.url}]\n`);
  return file;
}

const events = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

describe('cutover run with services', { timeout: 120_000 }, () => {
  it('a plan naming a service ramps only its routes; a step naming another adds that one\'s', async () => {
    const plan = writePlan('upstreams: [statements-v2]\nsteps:\n  - weight: 10\n  - weight: 50\n  - weight: 5\n    upstreams: [wallets-v2]');
    const r = await runCutover(['run', plan, '--config', config, '--by', 'ci'], { timeoutMs: 90_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^step 1 of 3: weight 10 on statement, statement-pdf /m);
    expect(r.stdout).toMatch(/^step 3 of 3: weight 5 on wallet /m);
    const s = (await store.read())!;
    expect(s.routes).toMatchObject({
      statement: { mode: 'canary', weight: 50 },
      'statement-pdf': { mode: 'canary', weight: 50 },
      wallet: { mode: 'canary', weight: 5 },
      tx: { mode: 'legacy', weight: 0 },
      default: { mode: 'legacy', weight: 0 },
    });
  });

  it('one service failing rolls back naming that service, not the healthy one', async () => {
    // statement's V2 answers 10 % 5xx while its own legacy side answers none; wallet is healthy.
    stub.set(() =>
      snapshot({
        statement: routeStats({ v2: { requests: 500, s5xx: 50 }, legacy: { requests: 500 } }),
        'statement-pdf': healthy(),
        wallet: healthy(),
        tx: healthy(),
      }),
    );
    const plan = writePlan('upstreams: [statements-v2, wallets-v2]\nsteps:\n  - weight: 10\n    hold: 1h');
    const r = await runCutover(['run', plan, '--config', config, '--json'], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(1);
    const rollback = events(r.stdout).find((e) => e.type === 'rollback')!;
    expect(rollback).toBeDefined();
    expect(rollback.services).toEqual([{ upstream: 'statements-v2', routes: ['statement'] }]);
    expect(rollback.reason).toContain('on route statement');
    expect(rollback.reason).toContain('[V2 service statements-v2: statement]');
    expect(rollback.reason).not.toContain('wallets-v2');
    const s = (await store.read())!;
    expect(s.aborted).toBe(true);
    expect(s.abortReason).toContain('[V2 service statements-v2: statement]');
    expect(Object.values(s.routes).every((x) => x.mode === 'legacy')).toBe(true);
  });

  it('an unknown service is a plan error naming the field (exit 2, nothing changes)', async () => {
    const before = (await store.read())!.version;
    const plan = writePlan('steps:\n  - weight: 10\n  - weight: 20\n    upstreams: [statements-v2, ledger-v2]');
    const r = await runCutover(['run', plan, '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('steps[1].upstreams[1]: must name the V2 side of at least one route: "ledger-v2" is the V2 side of no route; V2 upstreams: transactions-v2 (tx, default), statements-v2 (statement, statement-pdf), wallets-v2 (wallet)');
    expect(r.stderr).toContain('[CUTOVER_ERR_PLAN]');
    const bad = writePlan('upstreams: [Statements]\nsteps:\n  - weight: 10');
    const b = await runCutover(['run', bad, '--config', config]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('upstreams[0]: must be an upstream name');
    // no cutover.yaml and no replica heartbeating sides: nothing says which routes a service has
    const plain = writePlan('upstreams: [statements-v2]\nsteps:\n  - weight: 10');
    const n = await runCutover(['run', plain, '--state', stateUrl]);
    expect(n.code).toBe(2);
    expect(n.stderr).toContain('upstreams: names services, but which routes a service serves comes from cutover.yaml');
    expect((await store.read())!.version).toBe(before);
  });
});
