import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import { runCutover, spawnCutover, stopAll, tempDir } from '../helpers/processes.js';
import { routeStats, snapshot } from './fixtures.js';
import { startStatsStub, type StatsStub } from './stats-stub.js';

let dir: string;
let stateUrl: string;
let store: StateStore;
let stub: StatsStub;

beforeEach(async () => {
  dir = tempDir('cutover-run-cli-');
  stateUrl = `file://${join(dir, 'state.json')}`;
  store = openStateStore(stateUrl);
  await store.compareAndSet(
    0,
    { schemaVersion: 1, routes: { balance: { mode: 'legacy', weight: 0 } }, paused: false, aborted: false, updatedBy: 'test', updatedAt: new Date().toISOString() },
    { by: 'test', action: 'init' },
  );
  stub = await startStatsStub();
  stub.set(() => snapshot({ balance: routeStats({ v2: { requests: 500 }, legacy: { requests: 500 } }) }));
});

afterEach(async () => {
  await stopAll();
  await stub.close();
  await store.close();
});

afterAll(stopAll);

function writePlan(steps: string, extra = '', leaseTtl = '2s'): string {
  const file = join(dir, 'plan.yaml');
  writeFileSync(
    file,
    `steps:\n${steps}\nanalysis:\n  interval: 200ms\n  minRequests: 100\n  thresholds: { errorRate: { max: 0.01 } }\nleaseTtl: ${leaseTtl}\nadmin: [${stub.url}]\n${extra}`,
  );
  return file;
}

function parseEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('cutover run (the CLI)', () => {
  it('prints NDJSON events with schemaVersion and exits 0 on completion', async () => {
    const plan = writePlan('  - weight: 10\n  - weight: 100');
    const r = await runCutover(['run', plan, '--state', stateUrl, '--json', '--by', 'ci'], { timeoutMs: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = parseEvents(r.stdout);
    expect(events.every((e) => e.schemaVersion === 2 && typeof e.at === 'string')).toBe(true);
    expect(events.map((e) => e.type).filter((t) => t !== 'check' && t !== 'hold')).toEqual(['start', 'step', 'step', 'complete', 'stop']);
    expect(events[0]).toMatchObject({ type: 'start', holder: expect.stringMatching(/^ci \(pid \d+\)$/) });
  }, 120_000);

  it('prints plain lines without a TTY', async () => {
    const plan = writePlan('  - weight: 10');
    const r = await runCutover(['run', plan, '--state', stateUrl], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cutover run: plan [0-9a-f]{16}, 1 steps, store file:\/\//m);
    expect(r.stdout).toMatch(/^step 1 of 1: weight 10 on balance -> balance 10%$/m);
    // One line per interval: the counts; every check with its numbers is in --json.
    expect(r.stdout).toMatch(/^check step 1 of 1 \(last 2s, 1 replica\): PASS 1 pass, 0 fail, 0 inconclusive$/m);
    expect(r.stdout).not.toMatch(/^ {2}PASS errorRate/m);
    // A plan without routes: says what it drives (no cutover.yaml here: every route but default).
    expect(r.stdout).toMatch(/^the plan names no routes: it drives balance$/m);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('refuses a bad plan with exit 2, naming the path, changing nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'steps:\n  - weight: 150\nanalysis: { intervall: 1s }\n');
    const r = await runCutover(['run', file, '--state', stateUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('steps[0].weight: must be between 0 and 100');
    expect(r.stderr).toContain('analysis.intervall: unknown key');
    expect(r.stderr).toContain('[CUTOVER_ERR_PLAN]');
    expect((await store.read())!.version).toBe(1);
  });

  it('exits 2 naming --config when an explicit config file does not exist', async () => {
    const plan = writePlan('  - weight: 10');
    const r = await runCutover(['run', plan, '--config', join(dir, 'cutover.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--config: ${join(dir, 'cutover.yaml')} does not exist`);
  });

  it('exits 2 on a store that holds no rollout state yet, saying what to do', async () => {
    const plan = writePlan('  - weight: 10');
    const r = await runCutover(['run', plan, '--state', `file://${join(dir, 'empty', 'state.json')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no rollout state yet; start a proxy on it first');
  });

  it('a second driver refuses and names the holder; the first is SIGKILLed and a new run resumes at its step', async () => {
    // A 15 s lease: the CLI that must find it still held starts well within it on a loaded machine.
    const plan = writePlan('  - weight: 10\n  - weight: 20\n    hold: 1h\n  - weight: 30', '', '15s');
    const first = spawnCutover(['run', plan, '--state', stateUrl, '--by', 'first-driver']);
    await first.waitForOutput(/^step 2 of 3/m, 40_000);

    const second = await runCutover(['run', plan, '--state', stateUrl, '--by', 'second-driver']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/holds the rollout lease: first-driver \(pid \d+\)/);
    expect(second.stderr).toContain('[CUTOVER_ERR_RUN_LEASE]');

    await first.stop('SIGKILL');
    const killedAt = (await store.read())!;
    expect(killedAt.plan).toMatchObject({ step: 1 });
    expect(killedAt.routes.balance.weight).toBe(20);

    // The lease (15 s) has to expire first.
    const early = await runCutover(['run', plan, '--state', stateUrl, '--by', 'third-driver']);
    expect(early.code).toBe(1);
    await new Promise((r) => setTimeout(r, 15_100));
    const third = spawnCutover(['run', plan, '--state', stateUrl, '--by', 'third-driver', '--json']);
    await third.waitForOutput(/"type":"start"/, 40_000);
    const start = parseEvents(third.output()).find((e) => e.type === 'start')!;
    expect(start.resumedAt).toBe(2);
    // Promote the 1h hold so it finishes (retrying if the driver writes in between, as `cutover promote` would be refused).
    for (let attempt = 0; ; attempt++) {
      const cur = (await store.read())!;
      try {
        await store.compareAndSet(cur.version, { ...cur, plan: { ...cur.plan!, detail: { ...cur.plan!.detail, promotedStep: 1 } } }, { by: 'human', action: 'promote' });
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'CUTOVER_ERR_STATE_CONFLICT' || attempt > 20) throw err;
      }
    }
    expect(await third.exited).toBe(0);
    const steps = parseEvents(third.output()).filter((e) => e.type === 'step').map((e) => e.step);
    expect(steps).toEqual([3]);
    const weights = (await store.history({ limit: 200 })).flatMap((h) => h.changes.filter((c) => c.path === 'routes.balance.weight').map((c) => c.to));
    expect(weights).toEqual([10, 20, 30]);
    // Five CLI processes and a 2 s lease expiry: on a loaded 2-core machine this needs more than the default.
  }, 240_000);

  it('--dry-run changes nothing', async () => {
    const plan = writePlan('  - weight: 10');
    const r = await runCutover(['run', plan, '--state', stateUrl, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would apply step 1: weight 10 on balance');
    expect((await store.read())!.version).toBe(1);
  });

  it('stops on SIGTERM leaving the rollout where it is, and releases the lease', async () => {
    const plan = writePlan('  - weight: 10\n    hold: 1h');
    const p = spawnCutover(['run', plan, '--state', stateUrl, '--by', 'term']);
    await p.waitForOutput(/^step 1 of 1/m, 20_000);
    expect(await p.stop('SIGTERM')).toBe(1);
    expect(p.output()).toMatch(/interrupted at step 1 of 1; the rollout stays where it is/);
    expect((await store.read())!.routes.balance.weight).toBe(10);
    expect(await store.acquireLease('run', 'next', 1000)).toEqual({ ok: true });
  });
});
