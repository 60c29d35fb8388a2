/**
 * The control verbs' guards and words (the CLI as a child process, a file store, a cutover.yaml
 * with two GET routes, a POST route and the default route): `set-weight --all` means the named
 * routes, `mode X v2` obeys --max-step like set-weight, `mode X mirror` on a write route warns,
 * `promote`/`history` print words not JSON, `status` says which plan step and why it waits.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStateStore, initialStateFromConfig, type RolloutState, type StateStore } from '../../shared/state/index.js';
import { describePlanStatus } from '../../rollout-cli/plan-status.js';
import { runCutover, stopAll, tempDir } from '../helpers/processes.js';

afterAll(stopAll);

const ROUTES = [
  { name: 'balance', match: { method: 'GET', path: '/accounts/:accountId/balance' }, mode: 'legacy', weight: 0 },
  { name: 'tx', match: { method: 'GET', path: '/accounts/:accountId/transactions' }, mode: 'legacy', weight: 0 },
  { name: 'payments', match: { method: 'POST', path: '/payments' }, mode: 'legacy', weight: 0 },
];

let dir: string;
let stateUrl: string;
let store: StateStore;
let t: string[];

beforeEach(async () => {
  dir = tempDir('cutover-verbs-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  const config = join(dir, 'cutover.yaml');
  writeFileSync(
    config,
    [
      'upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }',
      `state: ${stateUrl}`,
      'routes:',
      ...ROUTES.flatMap((r) => [`  - name: ${r.name}`, `    match: { method: ${r.match.method}, path: ${r.match.path} }`]),
      '',
    ].join('\n'),
  );
  store = openStateStore(stateUrl);
  await store.compareAndSet(0, initialStateFromConfig({ routes: ROUTES, defaultRoute: { name: 'default', mode: 'legacy', weight: 0 } } as never), { by: 'test', action: 'init' });
  t = ['--config', config];
  return () => store.close();
});

const version = async () => (await store.read())!.version;

// Each test spawns several CLI processes: generous bounds for a loaded machine.
describe('set-weight --all', { timeout: 180_000 }, () => {
  it('sets the named routes in one change (one version, one history entry), not default nor the POST route, and says what it left alone and why', async () => {
    const before = await version();
    const r = await runCutover(['set-weight', '--all', '5', ...t]);
    expect(r.code, r.stderr).toBe(0);
    expect(await version()).toBe(before + 1);
    const entry = (await store.history()).at(-1)!;
    expect(entry).toMatchObject({ action: 'set-weight', version: before + 1 });
    expect(entry.changes.map((c) => c.path)).toEqual(['routes.balance.mode', 'routes.balance.weight', 'routes.tx.mode', 'routes.tx.weight']);
    const s = (await store.read())!;
    expect(s.routes).toEqual({
      balance: { mode: 'canary', weight: 5 },
      tx: { mode: 'canary', weight: 5 },
      payments: { mode: 'legacy', weight: 0 },
      default: { mode: 'legacy', weight: 0 },
    });
    expect(r.stdout).toMatch(/^set-weight --all: routes\.balance\.mode legacy -> canary; routes\.balance\.weight 0 -> 5; routes\.tx\.mode legacy -> canary; routes\.tx\.weight 0 -> 5/m);
    expect(r.stdout).toMatch(/^ {2}left alone: default: the catch-all default route/m);
    expect(r.stdout).toMatch(/^ {2}left alone: payments: POST \/payments writes \(an unsafe method, never mirrored\); add --include-unsafe to set it too, or set it by name$/m);
  });

  it('--include-unsafe adds the POST route (never default); --json lists what it set and left', async () => {
    const r = await runCutover(['set-weight', '--all', '5', '--include-unsafe', '--json', ...t]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.routes).toEqual(['balance', 'tx', 'payments']);
    expect(doc.left.map((l: { route: string }) => l.route)).toEqual(['default']);
    expect((await store.read())!.routes.payments).toEqual({ mode: 'canary', weight: 5 });
    expect((await store.read())!.routes.default).toEqual({ mode: 'legacy', weight: 0 });
  });

  it('a jump over --max-step on any route refuses the whole change (exit 2), nothing is written', async () => {
    await store.compareAndSet(await version(), { ...(await store.read())!, routes: { ...(await store.read())!.routes, tx: { mode: 'canary', weight: 30 } } }, { by: 'test', action: 'set-weight' });
    const before = await version();
    const r = await runCutover(['set-weight', '--all', '40', ...t]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weight: raising balance from 0 to 40 is a jump of 40 points, more than --max-step 25/);
    expect(await version()).toBe(before);
    expect((await store.read())!.routes.tx.weight).toBe(30);
  });
});

// Each test spawns several CLI processes: generous bounds for a loaded machine.
describe('mode', { timeout: 180_000 }, () => {
  it('v2 from legacy is a 100-point jump: refused without --force (exit 2, nothing changes), allowed with it', async () => {
    const before = await version();
    const r = await runCutover(['mode', 'tx', 'v2', ...t]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mode: v2 sends all of tx to V2: from 0 % that is a jump of 100 points, more than --max-step 25; ramp with `cutover set-weight tx N` or add --force/);
    expect(await version()).toBe(before);
    const forced = await runCutover(['mode', 'tx', 'v2', '--force', ...t]);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await store.read())!.routes.tx).toEqual({ mode: 'v2', weight: 100 });
  });

  it('v2 from canary 80 is within --max-step 25; from 70 it is not; --max-step raises the limit', async () => {
    const cur = (await store.read())!;
    await store.compareAndSet(cur.version, { ...cur, routes: { ...cur.routes, balance: { mode: 'canary', weight: 80 }, tx: { mode: 'canary', weight: 70 } } }, { by: 'test', action: 'set-weight' });
    const [ok, refused] = await Promise.all([runCutover(['mode', 'balance', 'v2', ...t]), runCutover(['mode', 'tx', 'v2', ...t])]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/from 70 % that is a jump of 30 points, more than --max-step 25/);
    const wider = await runCutover(['mode', 'tx', 'v2', '--max-step', '30', ...t]);
    expect(wider.code, wider.stderr).toBe(0);
    expect((await store.read())!.routes.tx.mode).toBe('v2');
  });

  it('mirror on a POST route warns and says how to opt in, but applies (it is safe: the client still gets legacy)', async () => {
    const r = await runCutover(['mode', 'payments', 'mirror', ...t]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: payments \(POST \/payments\) takes writes, which are never mirrored: .*set `mirrorUnsafe: true` on the route in cutover.yaml/m);
    expect((await store.read())!.routes.payments.mode).toBe('mirror');
    const j = await runCutover(['mode', 'payments', 'mirror', '--json', ...t]);
    expect(JSON.parse(j.stdout).warnings[0]).toMatch(/mirrorUnsafe: true/);
    const get = await runCutover(['mode', 'balance', 'mirror', ...t]);
    expect(get.stderr).toBe('');
  });
});

// Each test spawns several CLI processes: generous bounds for a loaded machine.
describe('words, not JSON', { timeout: 180_000 }, () => {
  async function atPlanStep(extra: Partial<RolloutState> = {}) {
    const cur = (await store.read())!;
    return store.compareAndSet(
      cur.version,
      {
        ...cur,
        routes: { ...cur.routes, balance: { mode: 'canary', weight: 25 } },
        plan: { planId: 'a801c0ffee123456', step: 1, stepStartedAt: new Date().toISOString(), detail: { status: 'running', of: 4, description: 'weight 25, hold 5m on balance', holdMs: 300_000 } },
        ...extra,
      },
      { by: 'driver (pid 1)', action: 'plan-step', reason: 'plan a801c0ffee123456 step 2 of 4: weight 25, hold 5m on balance', data: { planId: 'a801c0ffee123456', step: 2, of: 4 } },
    );
  }

  it('promote and history print the plan position in words', async () => {
    await atPlanStep();
    const r = await runCutover(['promote', ...t]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^promote: plan a801c0ffee123456: step 2 of 4 promoted \(the rest of its hold or pause skipped\)/m);
    expect(r.stdout).not.toMatch(/[{"]/);
    const h = await runCutover(['history', ...t]);
    expect(h.stdout).toMatch(/plan-step by driver \(pid 1\): routes\.balance\.mode legacy -> canary; routes\.balance\.weight 0 -> 25; plan a801c0ffee123456 started at step 2 of 4 \(weight 25, hold 5m on balance\)/);
    expect(h.stdout).not.toMatch(/\{"/);
  });

  it('status shows the plan, "step N of M" and why it holds, or why it is paused', async () => {
    await atPlanStep();
    const held = await runCutover(['status', ...t]);
    expect(held.stdout).toMatch(/^plan a801c0ffee123456: step 2 of 4 \(weight 25, hold 5m on balance\), since \S+$/m);
    expect(held.stdout).toMatch(/^ {2}holding: [45]m(\d+s)? left in the hold$/m);
    const cur = (await store.read())!;
    await store.compareAndSet(cur.version, { ...cur, paused: true }, { by: 'driver (pid 1)', action: 'pause', reason: 'step 2 of 4: 3 inconclusive intervals in a row (inconclusiveLimit 3)' });
    const paused = await runCutover(['status', ...t]);
    expect(paused.stdout).toMatch(/^ {2}paused by driver \(pid 1\): step 2 of 4: 3 inconclusive intervals in a row \(inconclusiveLimit 3\); `cutover resume` keeps waiting, `cutover promote` goes on, `cutover abort` stops$/m);
    const doc = JSON.parse((await runCutover(['status', '--json', ...t])).stdout);
    expect(doc.plan).toMatchObject({ planId: 'a801c0ffee123456', step: 2, of: 4, status: 'running', why: expect.stringMatching(/^paused by driver/) });
  });
});

describe('describePlanStatus', () => {
  const base: RolloutState = {
    schemaVersion: 1, version: 9, routes: {}, paused: false, aborted: false, updatedBy: 'x', updatedAt: '2026-01-01T00:00:00.000Z',
    plan: { planId: 'p', step: 2, stepStartedAt: '2026-01-01T00:00:00.000Z', detail: { status: 'running', of: 4, holdMs: 0 } },
  };
  const check = (verdict: string, step: number) => ({ version: 9, at: '2026-01-01T00:01:00.000Z', by: 'd', action: 'check', changes: [], reason: `plan p step ${step} of 4: ${verdict.toUpperCase()} errorRate: only 3 V2 requests`, data: { planId: 'p', step, of: 4, verdict } });

  it('names the step 1-based and the last check of that step; rolled back and complete say so', () => {
    const s = describePlanStatus(base, [check('pass', 2), check('inconclusive', 3)], Date.parse('2026-01-01T00:02:00Z'))!;
    expect(s).toMatchObject({ step: 3, of: 4, why: 'waiting for a passing check (last: inconclusive)', lastCheck: { reason: 'INCONCLUSIVE errorRate: only 3 V2 requests' } });
    const rb = describePlanStatus({ ...base, aborted: true, abortReason: 'cutover run rolled back', plan: { ...base.plan!, detail: { status: 'rolled-back', of: 4 } } }, [])!;
    expect(rb).toMatchObject({ step: 3, status: 'rolled-back' });
    expect(rb.why).toMatch(/^rolled back at this step: cutover run rolled back; `cutover resume --reason \.\.\.`, then `cutover run` enters this step again from its start$/);
    const done = describePlanStatus({ ...base, plan: { ...base.plan!, step: 3, detail: { status: 'complete', of: 4 } } }, [])!;
    expect(done).toMatchObject({ step: 4, of: 4, status: 'complete' });
  });
});
