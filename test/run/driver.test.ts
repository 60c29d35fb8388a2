import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { drivePlan, LEASE_NAME, type DriverOptions } from '../../rollout-cli/plan/driver.js';
import type { RunEvent } from '../../rollout-cli/plan/events.js';
import { proxiesSource } from '../../rollout-cli/plan/metrics-source.js';
import { parsePlanText, type Plan } from '../../rollout-cli/plan/schema.js';
import { openStateStore, abort, abortAndWait, promote, pause, resume, type StateStore } from '../../shared/state/index.js';
import { CutoverError } from '../../shared/errors.js';
import { tempDir } from '../helpers/processes.js';
import { chooseNamedRoutes } from '../../rollout-cli/route-sets.js';
import { routeStats, snapshot } from './fixtures.js';
import { startHookStub, startStatsStub, type HookStub, type StatsStub } from './stats-stub.js';

const healthy = () =>
  snapshot({
    balance: routeStats({
      v2: { requests: 500, s5xx: 1, latencyMs: [10, 12, 15] },
      legacy: { requests: 1500, s5xx: 2, latencyMs: [10, 12, 15] },
      shadow: { sent: 400, latencyMs: [11] },
    }),
    members: routeStats({ v2: { requests: 500, latencyMs: [10] }, legacy: { requests: 1500, latencyMs: [10] }, shadow: { sent: 400, latencyMs: [10] } }),
  });
const erroring = () =>
  snapshot({
    balance: routeStats({ v2: { requests: 500, s5xx: 26, latencyMs: [10] }, legacy: { requests: 1500, latencyMs: [10] } }),
    members: routeStats({ v2: { requests: 500 }, legacy: { requests: 1500 } }),
  });
const quiet = () => snapshot({ balance: routeStats({ v2: { requests: 3 }, legacy: { requests: 9 } }), members: routeStats({}) });

const analysis = `
analysis:
  interval: 100ms
  minRequests: 100
  failureLimit: 2
  inconclusiveLimit: 3
  thresholds:
    errorRate: { max: 0.01 }
    throttleRate: { max: 0.02 }
    latencyP99Ms: { maxRatioToLegacy: 2 }
leaseTtl: 1s
`;

let store: StateStore;
let stub: StatsStub;
let hooks: HookStub | undefined;
let events: RunEvent[];
const running: Array<Promise<unknown>> = [];

async function seed(s: StateStore) {
  await s.compareAndSet(
    0,
    {
      schemaVersion: 1,
      routes: { balance: { mode: 'legacy', weight: 0 }, members: { mode: 'legacy', weight: 0 }, default: { mode: 'legacy', weight: 0 } },
      paused: false,
      aborted: false,
      updatedBy: 'test',
      updatedAt: new Date().toISOString(),
    },
    { by: 'test', action: 'init' },
  );
}

beforeEach(async () => {
  store = openStateStore(`file://${join(tempDir('cutover-run-'), 'state.json')}`);
  await seed(store);
  stub = await startStatsStub();
  stub.set(healthy);
  events = [];
});

afterEach(async () => {
  await Promise.allSettled(running.splice(0));
  await stub.close();
  await hooks?.close();
  hooks = undefined;
  await store.close();
});

function planOf(steps: string, extra = ''): Plan {
  return parsePlanText(`routes: [balance, members]\nsteps:\n${steps}\n${analysis}${extra}\nadmin: [${stub.url}]\n`, 'plan.yaml', {});
}

function drive(plan: Plan, over: Partial<DriverOptions> = {}, sink: RunEvent[] = events): Promise<number> {
  const p = drivePlan({
    plan,
    store,
    source: proxiesSource({ store, adminUrls: plan.admin }),
    reporter: { emit: (e) => sink.push(e), close() {} },
    holder: 'tester@host (pid 1)',
    tickMs: 20,
    criticalEveryMs: 100,
    ...over,
  });
  running.push(p.catch(() => undefined));
  return p;
}

function of<T extends RunEvent['type']>(type: T, list: RunEvent[] = events): Array<Extract<RunEvent, { type: T }>> {
  return list.filter((e) => e.type === type) as Array<Extract<RunEvent, { type: T }>>;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; events: ${events.map((e) => e.type).join(' ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a healthy V2', () => {
  it('completes the plan (exit 0), routes at 100 % stay there, the history has every step and the checks', async () => {
    const plan = planOf('  - mirror: 150ms\n  - weight: 10\n  - weight: 50\n    hold: 250ms\n  - weight: 100');
    expect(await drive(plan)).toBe(0);
    expect(of('step').map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(of('complete')).toHaveLength(1);
    const s = (await store.read())!;
    expect(s.routes.balance).toEqual({ mode: 'canary', weight: 100 });
    expect(s.routes.members).toEqual({ mode: 'canary', weight: 100 });
    expect(s.routes.default).toEqual({ mode: 'legacy', weight: 0 });
    expect(s.aborted).toBe(false);
    // The state keeps the last step's index (the proxies' metric shows it as step 4 of 4).
    expect(s.plan).toMatchObject({ planId: plan.id, step: 3, detail: { status: 'complete', of: 4 } });
    const history = await store.history({ limit: 500 });
    const steps = history.filter((h) => h.action === 'plan-step' && typeof h.data?.step === 'number');
    expect(steps.map((h) => `${h.data!.step} of ${h.data!.of}`)).toEqual(['1 of 4', '2 of 4', '3 of 4', '4 of 4']);
    expect(steps[1].changes).toContainEqual({ path: 'routes.balance.weight', from: 0, to: 10 });
    expect(steps[1].by).toBe('tester@host (pid 1)');
    const checks = history.filter((h) => h.action === 'check');
    expect(checks.length).toBeGreaterThanOrEqual(4);
    expect(checks[0].reason).toMatch(/^plan [0-9a-f]{16} step 1 of 4: PASS errorRate 0 <= 0.01 on route balance in mirror; latencyP99Ms 11 0.733x legacy 15 <= 2x on route balance in mirror/);
    const atTen = checks.find((h) => h.data!.step === 2)!;
    expect(atTen.reason).toMatch(/^plan [0-9a-f]{16} step 2 of 4: PASS errorRate 0.002 <= 0.01 on route balance at weight 10/);
    expect((atTen.data!.checks as Array<{ check: string; value: number }>)[0]).toMatchObject({ check: 'errorRate', value: 0.002 });
    // The lease is released at the end.
    expect(await store.acquireLease(LEASE_NAME, 'someone-else', 1000)).toEqual({ ok: true });
  });

  it('is already complete when run again with nothing changed since', async () => {
    const plan = planOf('  - weight: 100');
    expect(await drive(plan)).toBe(0);
    const version = (await store.read())!.version;
    const again: RunEvent[] = [];
    expect(await drive(plan, {}, again)).toBe(0);
    expect(of('stop', again)[0].reason).toMatch(/already completed/);
    expect((await store.read())!.version).toBe(version);
  });
});

describe('rollback', () => {
  it('after failureLimit failing intervals: the acknowledged abort, a reason with the numbers, exit 1', async () => {
    stub.set(erroring);
    const plan = planOf('  - weight: 25\n    hold: 10s\n  - weight: 100');
    expect(await drive(plan)).toBe(1);
    const rollback = of('rollback')[0];
    expect(rollback.reason).toBe('errorRate 0.052 > 0.01 on route balance at weight 25 (2 failing intervals in a row, failureLimit 2)');
    expect(rollback.applied).toBe(true);
    // rolled back after failureLimit (2) failing checks, not at the end of the 10 s hold: counted, not timed
    const history = await store.history({ limit: 50 });
    const abortIdx = history.findIndex((h) => h.action === 'abort');
    const stepIdx = history.findIndex((h) => h.action === 'plan-step');
    const checksBetween = history.slice(Math.min(stepIdx, abortIdx) + 1, Math.max(stepIdx, abortIdx)).filter((h) => h.action === 'check');
    expect(checksBetween).toHaveLength(2);
    expect(checksBetween.every((h) => /FAIL/.test(h.reason ?? ''))).toBe(true);
    const s = (await store.read())!;
    expect(s.aborted).toBe(true);
    expect(s.abortReason).toMatch(/rolled back at step 1 of 2: errorRate 0.052 > 0.01 on route balance at weight 25/);
    expect(s.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
    expect(s.plan).toMatchObject({ step: 0, detail: { status: 'rolled-back' } });
  });

  it('on throttling is a throttleRate rollback, not an errorRate one', async () => {
    stub.set(() => snapshot({ balance: routeStats({ v2: { requests: 500, throttled: 60 }, legacy: { requests: 1500 } }) }));
    expect(await drive(planOf('  - weight: 25\n    hold: 10s'))).toBe(1);
    const reason = of('rollback')[0].reason;
    expect(reason).toMatch(/^throttleRate 0.12 > 0.02 on route balance at weight 25/);
    expect(reason).not.toMatch(/errorRate/);
  });

  it('nothing re-ramps after it: a new run refuses until a human resumes, then resumes at the recorded step', async () => {
    stub.set(erroring);
    const plan = planOf('  - weight: 10\n  - weight: 25\n    hold: 300ms\n  - weight: 100');
    expect(await drive(plan)).toBe(1);
    expect((await store.read())!.plan!.step).toBe(0);
    await expect(drive(plan)).rejects.toMatchObject({ code: 'CUTOVER_ERR_RUN_ABORTED', exitCode: 1 });
    const cur = (await store.read())!;
    const r = resume(cur, { reason: 'fixed the V2 bug' });
    await store.compareAndSet(cur.version, r.next, { by: 'human', action: 'resume', reason: 'fixed the V2 bug' });
    stub.set(healthy);
    const again: RunEvent[] = [];
    expect(await drive(plan, {}, again)).toBe(0);
    expect(of('start', again)[0].resumedAt).toBe(1);
    expect(of('step', again).map((e) => e.step)).toEqual([1, 2, 3]);
  });

  it('at once on a critical breach from the 5-second slice, without waiting for the interval', async () => {
    stub.set((w) =>
      w === 5
        ? snapshot({ balance: routeStats({ v2: { requests: 40, s5xx: 20 }, legacy: { requests: 120 } }) })
        : snapshot({ balance: routeStats({ v2: { requests: 40 }, legacy: { requests: 120 } }) }),
    );
    const withCritical = parsePlanText(
      `routes: [balance]\nsteps:\n  - weight: 25\n    hold: 10s\nanalysis:\n  interval: 10s\n  minRequests: 100\n  critical: { errorRate: { max: 0.2 }, minRequests: 20 }\nadmin: [${stub.url}]\n`,
      'plan.yaml',
      {},
    );
    expect(await drive(withCritical)).toBe(1);
    // no interval check came first: the 5-second slice decided, not the 10 s interval
    expect(of('check')).toHaveLength(0);
    const rb = of('rollback')[0];
    expect(rb.critical).toBe(true);
    expect(rb.reason).toBe('critical: errorRate 0.5 > 0.2 on route balance at weight 25');
    expect(stub.windows).toContain(5);
    const hist = await store.history({ limit: 50 });
    expect(hist.find((h) => h.action === 'check' && h.data?.critical)?.reason).toMatch(/CRITICAL errorRate 0.5 > 0.2/);
  });

  it('is not blocked by a dead webhook', async () => {
    stub.set(erroring);
    const deadPort = 9; // discard port: nothing listens on loopback
    const plan = planOf('  - weight: 25\n    hold: 10s', `webhooks: { onRollback: http://127.0.0.1:${deadPort}/hook, timeoutMs: 300, retries: 1 }`);
    expect(await drive(plan)).toBe(1);
    expect((await store.read())!.aborted).toBe(true);
    const hook = of('webhook')[0];
    expect(hook).toMatchObject({ hook: 'onRollback', ok: false, attempts: 2 });
  });
});

describe('too little traffic', () => {
  it('holds on inconclusive checks, then pauses for a human, and never fails', async () => {
    stub.set(quiet);
    const plan = planOf('  - weight: 5\n  - weight: 100');
    const done = drive(plan);
    await until(() => of('pause').length > 0);
    const s = (await store.read())!;
    expect(s.paused).toBe(true);
    expect(s.aborted).toBe(false);
    expect(of('pause')[0].reason).toMatch(
      /3 inconclusive intervals in a row \(inconclusiveLimit 3\): no traffic at all on members \(neither legacy nor V2 served a request in \d+s\); errorRate: only 3 V2 requests on route balance at weight 5 \(minRequests 100\)/,
    );
    // members saw no request at all: said once for the step, not once per interval.
    expect(of('no-traffic')).toEqual([expect.objectContaining({ step: 1, of: 2, routes: ['members'] })]);
    expect(of('check').every((c) => JSON.stringify(c.noTraffic) === '["members"]')).toBe(true);
    expect(of('check').every((c) => c.verdict === 'inconclusive')).toBe(true);
    expect(of('rollback')).toHaveLength(0);
    // Someone aborts: abort wins, the run ends with exit 1 and writes nothing more.
    await abortAndWait(store, { reason: 'giving up for today', by: 'oncall' });
    expect(await done).toBe(1);
    expect(of('aborted')[0].reason).toBe('giving up for today');
    expect((await store.read())!.routes.balance.mode).toBe('legacy');
  });
});

describe('when the numbers cannot be read', () => {
  it('a stats source that fails makes checks inconclusive with a warning, never a rollback', async () => {
    const plan = planOf('  - weight: 5');
    const broken = { kind: 'proxies', read: () => Promise.reject(new Error('registry unreachable')) };
    const done = drive(plan, { source: broken });
    await until(() => of('pause').length > 0);
    expect(of('warning').some((w) => w.message === 'stats from proxies: registry unreachable')).toBe(true);
    expect(of('check').every((c) => c.verdict === 'inconclusive')).toBe(true);
    expect(of('rollback')).toHaveLength(0);
    await abortAndWait(store, { reason: 'end of test', by: 'test' });
    expect(await done).toBe(1);
  });

  it('an unreachable replica is named, and the others still count', async () => {
    const plan = planOf('  - weight: 5');
    const both = { ...plan, admin: [stub.url, 'http://127.0.0.1:9'] };
    expect(await drive(both, { source: proxiesSource({ store, adminUrls: both.admin, timeoutMs: 500 }) })).toBe(0);
    expect(of('warning').some((w) => /^stats from http:\/\/127.0.0.1:9: /.test(w.message))).toBe(true);
    expect(of('check')[0].replicas).toEqual([stub.url]);
  });
});

describe('humans', () => {
  it('a manual pause holds until `promote`, then the plan continues', async () => {
    const plan = planOf('  - weight: 10\n  - pause: manual\n  - weight: 30');
    const done = drive(plan);
    await until(() => of('pause').length > 0);
    const paused = (await store.read())!;
    expect(paused.paused).toBe(true);
    expect(paused.routes.balance.weight).toBe(10);
    await new Promise((r) => setTimeout(r, 400));
    expect(of('step').map((e) => e.step)).toEqual([1, 2]);
    const tr = promote(paused);
    await store.compareAndSet(paused.version, tr.next, { by: 'human', action: 'promote' });
    expect(await done).toBe(0);
    expect(of('step').map((e) => e.step)).toEqual([1, 2, 3]);
    expect((await store.read())!.routes.balance.weight).toBe(30);
  });

  it('`pause` holds a passing plan, `resume` lets it go on', async () => {
    const plan = planOf('  - weight: 10\n    hold: 200ms\n  - weight: 20');
    const done = drive(plan);
    await until(() => of('step').length > 0);
    const cur = (await store.read())!;
    await store.compareAndSet(cur.version, pause(cur).next, { by: 'human', action: 'pause' });
    await new Promise((r) => setTimeout(r, 600));
    expect(of('step')).toHaveLength(1);
    expect(of('hold').some((h) => /the rollout is paused/.test(h.reason))).toBe(true);
    const now = (await store.read())!;
    await store.compareAndSet(now.version, resume(now).next, { by: 'human', action: 'resume' });
    expect(await done).toBe(0);
  });

  it('`promote` skips the rest of a hold', async () => {
    const plan = planOf('  - weight: 10\n    hold: 1h\n  - weight: 20');
    const done = drive(plan);
    await until(() => of('step').length > 0);
    const cur = (await store.read())!;
    await store.compareAndSet(cur.version, promote(cur).next, { by: 'human', action: 'promote' });
    expect(await done).toBe(0);
  });
});

describe('one driver at a time', () => {
  it('a second driver refuses and names the holder', async () => {
    const plan = planOf('  - weight: 10\n    hold: 1h');
    const first = drive(plan);
    await until(() => of('step').length > 0);
    const err = await drive(plan, { holder: 'second@host (pid 2)' }, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CutoverError);
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_RUN_LEASE');
    expect((err as CutoverError).exitCode).toBe(1);
    expect((err as CutoverError).message).toContain('tester@host (pid 1)');
    await abortAndWait(store, { reason: 'end of test', by: 'test' });
    expect(await first).toBe(1);
  });

  it('a run resumes a dead driver\'s recorded step once its lease expired, without starting over', async () => {
    const plan = planOf('  - weight: 10\n  - weight: 25\n    hold: 300ms\n  - weight: 50');
    // A driver that died at step 2 (index 1): its position is in the state, its lease still held.
    const cur = (await store.read())!;
    await store.compareAndSet(
      cur.version,
      {
        ...cur,
        routes: { ...cur.routes, balance: { mode: 'canary', weight: 25 }, members: { mode: 'canary', weight: 25 } },
        plan: { planId: plan.id, step: 1, stepStartedAt: new Date().toISOString(), detail: { status: 'running' } },
      },
      { by: 'dead@host (pid 99)', action: 'plan-step' },
    );
    await store.acquireLease(LEASE_NAME, 'dead@host (pid 99)', 1000);
    await expect(drive(plan, {}, [])).rejects.toMatchObject({ code: 'CUTOVER_ERR_RUN_LEASE' });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await drive(plan)).toBe(0);
    expect(of('start')[0].resumedAt).toBe(2);
    expect(of('step').map((e) => e.step)).toEqual([3]);
    const weights = (await store.history({ limit: 100 })).flatMap((h) => h.changes.filter((c) => c.path === 'routes.balance.weight').map((c) => c.to));
    expect(weights).toEqual([25, 50]);
  });
});

describe('the driver never re-ramps by itself', () => {
  /** A human's abort and resume written straight to the store, back to back (microseconds apart). */
  async function abortThenResume(reason: string) {
    const cur = (await store.read())!;
    const ab = abort(cur, { reason });
    const aborted = await store.compareAndSet(cur.version, ab.next, { by: 'oncall', action: 'abort', reason, changes: ab.changes });
    const re = resume(aborted, { reason: 'false alarm' });
    await store.compareAndSet(aborted.version, re.next, { by: 'oncall', action: 'resume', reason: 'false alarm', changes: re.changes });
  }

  /** The store, with `inject` run inside the next read() once armed (the read answers what it read before). */
  function injecting(inject: () => Promise<void>): { store: StateStore; arm(): void } {
    let armed = false;
    const read = async () => {
      const s = await store.read();
      if (armed) {
        armed = false;
        await inject();
      }
      return s;
    };
    const wrapped = new Proxy(store, {
      get(target, key) {
        if (key === 'read') return read;
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return { store: wrapped, arm: () => (armed = true) };
  }

  function armOnFirstCheck(arm: () => void): DriverOptions['reporter'] {
    let armed = false;
    return {
      emit(e) {
        events.push(e);
        if (e.type === 'check' && !armed) {
          armed = true;
          arm();
        }
      },
      close() {},
    };
  }

  it('an abort cleared by a resume before the driver looked still stops it (exit 1), and it writes nothing after', async () => {
    const plan = planOf('  - weight: 10\n    hold: 1h\n  - weight: 50');
    // The abort and the resume both land between two of the driver's reads: it never sees `aborted: true`.
    // Armed by the first check: the next read is the loop's, an interval before the next check.
    const w = injecting(() => abortThenResume('pager: V2 ledger drift'));
    const done = drive(plan, { store: w.store, source: proxiesSource({ store, adminUrls: plan.admin }), reporter: armOnFirstCheck(w.arm) });
    await until(() => of('stop').length > 0);
    const abortVersion = (await store.read())!.version - 1;
    expect((await store.read())!.aborted).toBe(false);
    expect(await done).toBe(1);
    expect(of('aborted')[0]).toMatchObject({ reason: 'pager: V2 ledger drift', by: 'oncall', version: abortVersion, step: 1, of: 2 });
    expect(of('stop')[0].reason).toMatch(/aborted \(version \d+, by oncall\) and resumed since/);
    const after = (await store.history({ sinceVersion: abortVersion })).filter((h) => h.by.startsWith('tester'));
    expect(after.filter((h) => h.action !== 'check')).toEqual([]);
    expect((await store.read())!.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
  });

  it('an abort + resume between the driver\'s read and its write is caught too: no step is written over it', async () => {
    // The abort and the resume land right after the driver read the state for a write (its
    // read-modify-write), the moment a check of `aborted` alone misses.
    const plan = planOf('  - weight: 10\n  - weight: 50\n    hold: 1h');
    // Armed by the first (passing) check of step 1: the next read is the one of the write that applies step 2.
    const w = injecting(() => abortThenResume('race'));
    expect(await drive(plan, { store: w.store, source: proxiesSource({ store, adminUrls: plan.admin }), reporter: armOnFirstCheck(w.arm) })).toBe(1);
    const weights = (await store.history({ limit: 200 })).flatMap((h) => h.changes.filter((c) => c.path === 'routes.balance.weight').map((c) => c.to));
    expect(weights).toEqual([10, 0]);
    expect(of('step').map((e) => e.step)).toEqual([1]);
  });

  it('after abort + resume a new run re-enters the failed step from its start: its weight again, its full hold, a passing interval with samples', async () => {
    const plan = planOf('  - weight: 10\n  - weight: 25\n    hold: 600ms\n  - weight: 50');
    // A driver at step 2 of 3 (weight 25), killed; then a human aborted and resumed.
    const cur = (await store.read())!;
    await store.compareAndSet(
      cur.version,
      {
        ...cur,
        routes: { ...cur.routes, balance: { mode: 'canary', weight: 25 }, members: { mode: 'canary', weight: 25 } },
        plan: { planId: plan.id, step: 1, stepStartedAt: new Date(Date.now() - 3_600_000).toISOString(), detail: { status: 'running', of: 3 } },
      },
      { by: 'dead@host (pid 99)', action: 'plan-step' },
    );
    await abortThenResume('incident 7');
    const resumedAt = (await store.read())!.version;
    // No V2 traffic: every interval is inconclusive, so nothing goes above the failed step's 25.
    stub.set(quiet);
    const first = drive(plan);
    await until(() => of('pause').length > 0);
    expect(of('start')[0].resumedAt).toBe(2);
    expect(of('step').map((e) => e.step)).toEqual([2]);
    expect((await store.read())!.routes.balance).toEqual({ mode: 'canary', weight: 25 });
    expect(of('check').every((c) => c.verdict !== 'pass')).toBe(true);
    await abortAndWait(store, { reason: 'end of the quiet part', by: 'test' });
    expect(await first).toBe(1);
    const cur2 = (await store.read())!;
    await store.compareAndSet(cur2.version, resume(cur2, { reason: 'traffic is back' }).next, { by: 'human', action: 'resume', reason: 'traffic is back' });

    // With traffic: 25 first, 50 only after a passing interval, and not before the full hold.
    stub.set(healthy);
    const second: RunEvent[] = [];
    expect(await drive(plan, {}, second)).toBe(0);
    expect(of('step', second).map((e) => e.step)).toEqual([2, 3]);
    const history = await store.history({ sinceVersion: resumedAt });
    const weights = history.flatMap((h) => h.changes.filter((c) => c.path === 'routes.balance.weight').map((c) => c.to as number));
    expect(Math.max(...weights.slice(0, -1))).toBeLessThanOrEqual(25);
    expect(weights[weights.length - 1]).toBe(50);
    const lastEnter = history.filter((h) => h.action === 'plan-step' && h.data?.step === 2).pop()!;
    const fifty = history.find((h) => h.changes.some((c) => c.path === 'routes.balance.weight' && c.to === 50))!;
    // The hold's clock starts when the driver decides to re-enter, before its entry is written and
    // stamped, so the stamps may be a little closer than the 600 ms hold; a re-used old start would
    // put them together.
    expect(Date.parse(fifty.at) - Date.parse(lastEnter.at)).toBeGreaterThanOrEqual(300);
    const between = history.filter((h) => h.version >= lastEnter.version && h.version < fifty.version && h.action === 'check' && h.data?.step === 2);
    const passing = between.filter((h) => h.data!.verdict === 'pass');
    expect(passing.length).toBeGreaterThan(0);
    expect((passing[passing.length - 1].data!.checks as Array<{ v2Requests: number }>).every((c) => c.v2Requests > 0)).toBe(true);
  });

  it('a plan step whose routes are on legacy is never judged by an interval with no applicable check', async () => {
    // The old bug: the step counted as applied while its route sat on legacy; no check applied,
    // that "passed", and the route jumped to the next step's weight.
    const plan = planOf('  - weight: 25\n  - weight: 50');
    const cur = (await store.read())!;
    await store.compareAndSet(
      cur.version,
      { ...cur, plan: { planId: plan.id, step: 0, stepStartedAt: new Date(Date.now() - 3_600_000).toISOString(), detail: { status: 'running' } } },
      { by: 'dead@host (pid 99)', action: 'plan-step' },
    );
    stub.set(quiet);
    const done = drive(plan);
    await until(() => of('pause').length > 0);
    expect(of('step').map((e) => e.step)).toEqual([1]);
    expect((await store.read())!.routes.balance.weight).toBe(25);
    await abortAndWait(store, { reason: 'end of test', by: 'test' });
    expect(await done).toBe(1);
  });
});

describe('a plan without routes:', () => {
  it("drives the named routes, never default; with a config, not a write-only route either, and says so", async () => {
    const plan = parsePlanText(`steps:\n  - weight: 10\n${analysis}\nadmin: [${stub.url}]\n`, 'plan.yaml', {});
    const config = {
      routes: [
        { name: 'balance', match: { method: 'GET', path: '/b' }, mirrorUnsafe: false },
        { name: 'members', match: { method: 'POST', path: '/m' }, mirrorUnsafe: false },
      ],
      defaultRoute: { name: 'default' },
    } as never;
    const implicitRoutes = (names: readonly string[]) => chooseNamedRoutes(names, config, { unsafeHint: "name it in the plan's routes: to drive it" });
    expect(await drive(plan, { implicitRoutes })).toBe(0);
    const s = (await store.read())!;
    expect(s.routes.balance).toEqual({ mode: 'canary', weight: 10 });
    expect(s.routes.members).toEqual({ mode: 'legacy', weight: 0 });
    expect(s.routes.default).toEqual({ mode: 'legacy', weight: 0 });
    expect(of('start')[0].driven).toEqual({
      routes: ['balance'],
      left: [
        { route: 'members', why: "POST /m writes (an unsafe method, never mirrored); name it in the plan's routes: to drive it" },
        { route: 'default', why: 'the catch-all default route (requests no route matches); name it to include it' },
      ],
    });
  });

  it('without a config: every route but default', async () => {
    const plan = parsePlanText(`steps:\n  - weight: 10\n${analysis}\nadmin: [${stub.url}]\n`, 'plan.yaml', {});
    expect(await drive(plan)).toBe(0);
    const s = (await store.read())!;
    expect(s.routes.balance).toEqual({ mode: 'canary', weight: 10 });
    expect(s.routes.members).toEqual({ mode: 'canary', weight: 10 });
    expect(s.routes.default).toEqual({ mode: 'legacy', weight: 0 });
  });
});

describe('the lease at the end', () => {
  it('is free after a run even when a renewal was still in flight when the run ended', async () => {
    // Renewals (every acquireLease after the first) wait until released here, so one is in flight at the end.
    let calls = 0;
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    const renewals: Array<Promise<unknown>> = [];
    const slow = new Proxy(store, {
      get(target, prop, recv) {
        if (prop === 'acquireLease') {
          return (...args: Parameters<StateStore['acquireLease']>) => {
            if (calls++ === 0) return target.acquireLease(...args);
            const p = blocked.then(() => target.acquireLease(...args));
            renewals.push(p);
            return p;
          };
        }
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const done = drive(planOf('  - weight: 10\n    hold: 500ms\n  - weight: 100'), { store: slow });
    await until(() => renewals.length > 0 && of('complete').length > 0);
    unblock();
    expect(await done).toBe(0);
    await Promise.allSettled(renewals);
    expect(await store.acquireLease(LEASE_NAME, 'someone-else', 1000)).toEqual({ ok: true });
  });
});

describe('refusals', () => {
  it('refuses an aborted rollout, naming what to do', async () => {
    await abortAndWait(store, { reason: 'incident 42', by: 'oncall' });
    await expect(drive(planOf('  - weight: 10'))).rejects.toMatchObject({
      code: 'CUTOVER_ERR_RUN_ABORTED',
      exitCode: 1,
      message: expect.stringContaining('cutover resume --reason'),
    });
  });

  it('refuses a plan naming a route the state does not have (exit 2), changing nothing', async () => {
    const plan = parsePlanText(`steps:\n  - weight: 10\n    routes: [balance, ledger]\nadmin: [${stub.url}]\n`, 'plan.yaml', {});
    const before = (await store.read())!.version;
    await expect(drive(plan)).rejects.toMatchObject({ code: 'CUTOVER_ERR_PLAN', exitCode: 2, message: expect.stringContaining('steps[0].routes[1]: unknown route "ledger"') });
    expect((await store.read())!.version).toBe(before);
  });
});

describe('gate and webhooks', () => {
  it('a gate answering non-2xx holds the step; 2xx lets it advance; onStep and onComplete get JSON bodies', async () => {
    hooks = await startHookStub();
    hooks.status['/gate'] = 503;
    const plan = planOf('  - weight: 10\n  - weight: 20', `webhooks: { onStep: ${hooks.url}/step, onComplete: ${hooks.url}/done, gate: ${hooks.url}/gate, timeoutMs: 500, retries: 0 }`);
    const done = drive(plan);
    await until(() => of('gate').length >= 2);
    expect(of('gate')[0]).toMatchObject({ open: false, status: 503, step: 1 });
    expect(of('step')).toHaveLength(1);
    hooks.status['/gate'] = 204;
    expect(await done).toBe(0);
    const paths = hooks.calls.map((c) => c.path);
    expect(paths.filter((p) => p === '/step')).toHaveLength(2);
    expect(paths).toContain('/done');
    const step = hooks.calls.find((c) => c.path === '/step')!.body;
    expect(step).toMatchObject({ event: 'onStep', planId: plan.id, step: 1, of: 2, routes: { balance: { mode: 'canary', weight: 10 } } });
    expect(hooks.calls.find((c) => c.path === '/gate')!.body).toMatchObject({ event: 'gate', step: 1, next: 2 });
  });
});

describe('--dry-run', () => {
  it('evaluates the checks and says what it would do, changing nothing and taking no lease', async () => {
    const plan = planOf('  - weight: 10\n  - weight: 20');
    const before = await store.read();
    await store.acquireLease(LEASE_NAME, 'someone@else (pid 3)', 5000);
    expect(await drive(plan, { dryRun: true })).toBe(0);
    expect(await store.read()).toEqual(before);
    expect(of('would').map((e) => e.action)).toEqual(['apply step 1: weight 10 on balance, members']);
    expect(of('step')[0]).toMatchObject({ dryRun: true, routes: { balance: { mode: 'canary', weight: 10 } } });
    expect(of('check')[0]).toMatchObject({ dryRun: true });
  });
});

describe('stats from the replica registry', () => {
  it('reads every live replica that registered an adminUrl and merges them', async () => {
    const second = await startStatsStub();
    try {
      second.set(() => snapshot({ balance: routeStats({ v2: { requests: 100 } }) }, 'b'));
      stub.set(() => snapshot({ balance: routeStats({ v2: { requests: 300 } }) }, 'a'));
      const now = new Date().toISOString();
      await store.heartbeat({ id: 'a', host: 'h', pid: 1, appliedVersion: 1, lastSeen: now, adminUrl: stub.url });
      await store.heartbeat({ id: 'b', host: 'h', pid: 2, appliedVersion: 1, lastSeen: now, adminUrl: second.url });
      await store.heartbeat({ id: 'old', host: 'h', pid: 3, appliedVersion: 1, lastSeen: new Date(Date.now() - 60_000).toISOString(), adminUrl: 'http://127.0.0.1:9' });
      const w = await proxiesSource({ store }).read(3);
      expect(w.answered.sort()).toEqual([stub.url, second.url].sort());
      expect(w.failed).toEqual([]);
      expect(w.stats.routes.balance.served.v2.requests).toBe(400);
      expect(stub.windows).toContain(3);
    } finally {
      await second.close();
    }
  });
});
