import { describe, expect, it } from 'vitest';
import { describeEvent, JsonReporter, PlainReporter, TtyReporter } from '../../rollout-cli/plan/view.js';
import type { RunEvent } from '../../rollout-cli/plan/events.js';
import type { CheckResult } from '../../rollout-cli/plan/analysis.js';

const failing: CheckResult = {
  route: 'balance',
  check: 'errorRate',
  status: 'fail',
  value: 0.052,
  limit: 0.01,
  rule: 'max',
  v2Requests: 1000,
  legacyRequests: 3000,
  reason: 'errorRate 0.052 > 0.01 on route balance at weight 25',
};

describe('run views', () => {
  it('--json writes one JSON object per line with schemaVersion and at', () => {
    let out = '';
    const r = new JsonReporter((s) => (out += s));
    r.emit({ type: 'step', step: 2, of: 5, description: 'weight 25', routes: { balance: { mode: 'canary', weight: 25 } } });
    r.emit({ type: 'stop', exitCode: 0, reason: 'done' });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ schemaVersion: 2, type: 'step', step: 2, routes: { balance: { weight: 25 } } });
    expect(Date.parse(lines[1].at)).not.toBeNaN();
  });

  it('plain lines print a hold once per reason, and failing checks with their numbers', () => {
    let out = '';
    const r = new PlainReporter((s) => (out += s));
    const hold: RunEvent = { type: 'hold', step: 1, of: 2, reason: 'step 1 of 2: holding', remainingMs: 5000 };
    r.emit(hold);
    r.emit({ ...hold, remainingMs: 4000 });
    const passing: CheckResult = { ...failing, check: 'throttleRate', status: 'pass', reason: 'throttleRate 0 <= 0.02 on route balance at weight 25' };
    r.emit({ type: 'check', step: 1, of: 2, windowSeconds: 31, verdict: 'fail', checks: [failing, passing, passing], skipped: [], replicas: ['a', 'b'] });
    r.emit({ type: 'check', step: 1, of: 2, windowSeconds: 31, verdict: 'pass', checks: [passing, passing], skipped: [], replicas: ['a', 'b'] });
    expect(out).toBe(
      'hold: step 1 of 2: holding (5s left)\n' +
        'check step 1 of 2 (last 31s, 2 replicas): FAIL 2 pass, 1 fail, 0 inconclusive: errorRate 0.052 > 0.01 on route balance at weight 25\n' +
        'check step 1 of 2 (last 31s, 2 replicas): PASS 2 pass, 0 fail, 0 inconclusive\n',
    );
  });

  it('the TTY view redraws in place: step k of n, weight per route, time left in the hold, the last checks', () => {
    let out = '';
    const stream = { write: (s: string) => (out += s), columns: 100 };
    const r = new TtyReporter(stream, { color: false, redrawMs: 60_000 });
    r.emit({ type: 'step', step: 2, of: 4, description: 'weight 25, hold 5m on balance, members', routes: { balance: { mode: 'canary', weight: 25 }, members: { mode: 'canary', weight: 25 } } });
    r.emit({ type: 'hold', step: 2, of: 4, reason: 'step 2 of 4: holding', remainingMs: 290_000 });
    r.emit({ type: 'check', step: 2, of: 4, windowSeconds: 31, verdict: 'fail', checks: [failing], skipped: [], replicas: ['a'] });
    const beforeStop = out.length;
    r.emit({ type: 'stop', exitCode: 1, reason: 'rolled back' });
    r.emit({ type: 'warning', message: 'late' });
    r.close();
    // After the stop the frame is final: the outcome and later lines are appended below it, nothing is erased.
    expect(out.slice(beforeStop)).toMatch(/\nstopped: rolled back \(exit 1\)\nwarning: late\n$/);
    expect(out.slice(out.indexOf('stopped: rolled back'))).not.toMatch(/\x1b\[\d+A/);
    // The last frame, after the last cursor-up + clear.
    const frames = out.slice(0, out.indexOf('stopped:')).split(/\x1b\[\d+A\x1b\[0J/);
    const last = frames[frames.length - 1];
    expect(last).toContain('step 2 of 4: weight 25, hold 5m on balance, members');
    expect(last).toContain('routes: balance 25%, members 25%');
    expect(last).toMatch(/step 2 of 4: holding: 4m5\ds left in the hold/);
    expect(last).toContain('last check (31s window): FAIL');
    expect(last).toContain('FAIL errorRate 0.052 > 0.01 on route balance at weight 25');
    // Cursor-up counts match what was drawn before (no wrapped lines at 100 columns).
    expect(out).toMatch(/\x1b\[\d+A\x1b\[0J/);
  });

  it('describes a rollback with who did not apply it', () => {
    const lines = describeEvent({ type: 'rollback', step: 3, of: 5, reason: 'errorRate 0.052 > 0.01 on route balance at weight 25', critical: false, applied: false, notApplied: ['proxy-2'] });
    expect(lines).toEqual(['ROLLBACK at step 3 of 5: errorRate 0.052 > 0.01 on route balance at weight 25', '  not applied by: proxy-2']);
  });

  it('plain lines: a line per change of the run (pause, un-pause, promote), and a one-line reminder while paused, not a line per hold', () => {
    let out = '';
    let clock = 1_000_000;
    const r = new PlainReporter((s) => (out += s), { pausedReminderMs: 60_000, now: () => clock });
    const lines = () => out.trim().split('\n');
    r.emit({ type: 'step', step: 2, of: 4, description: 'weight 5 on balance', routes: { balance: { mode: 'canary', weight: 5 } } });
    r.emit({ type: 'pause', step: 2, of: 4, reason: 'step 2 of 4: 3 inconclusive intervals in a row (inconclusiveLimit 3): too little traffic' });
    expect(lines()).toHaveLength(2);
    // Ten minutes of holds and inconclusive checks every 30 s: one line per interval, a reminder per minute.
    const held: RunEvent = { type: 'hold', step: 2, of: 4, reason: 'step 2 of 4: paused after inconclusive checks; waiting for `cutover resume` or `cutover promote`' };
    const quiet: RunEvent = { type: 'check', step: 2, of: 4, windowSeconds: 31, verdict: 'inconclusive', checks: [{ ...failing, status: 'inconclusive', reason: 'errorRate: only 3 V2 requests on route balance at weight 5 (minRequests 100)' }], skipped: [], replicas: ['a'] };
    for (let i = 0; i < 20; i++) {
      clock += 30_000;
      r.emit(held);
      r.emit(quiet);
    }
    const reminders = lines().filter((l) => l.startsWith('still paused'));
    expect(reminders.length).toBeGreaterThanOrEqual(9);
    expect(reminders.length).toBeLessThanOrEqual(10);
    expect(reminders[0]).toBe(
      'still paused at step 2 of 4 (for 1m): step 2 of 4: 3 inconclusive intervals in a row (inconclusiveLimit 3): too little traffic; `cutover promote` goes on, `cutover resume` keeps waiting, `cutover abort` stops',
    );
    expect(lines().filter((l) => l.startsWith('hold:'))).toEqual([]);
    expect(lines().filter((l) => l.startsWith('check step 2 of 4'))).toHaveLength(20);
    expect(lines().every((l) => !l.startsWith('  '))).toBe(true);
    // A human promotes: the un-pause and the promotion are said; no more reminders.
    r.emit({ type: 'unpause', step: 2, of: 4, reason: 'resumed by alice@host', by: 'alice@host' });
    r.emit({ type: 'promote', step: 2, of: 4, reason: 'promoted past step 2 of 4 by alice@host' });
    r.emit({ type: 'step', step: 3, of: 4, description: 'weight 25 on balance', routes: { balance: { mode: 'canary', weight: 25 } } });
    const before = reminders.length;
    clock += 600_000;
    r.emit({ type: 'hold', step: 3, of: 4, reason: 'step 3 of 4: holding', remainingMs: 1000 });
    expect(lines().filter((l) => l.startsWith('still paused'))).toHaveLength(before);
    expect(lines().slice(-4)).toEqual([
      'un-paused: resumed by alice@host',
      'promoted: promoted past step 2 of 4 by alice@host',
      'step 3 of 4: weight 25 on balance -> balance 25%',
      'hold: step 3 of 4: holding (1s left)',
    ]);
  });

  it('a plan without routes says what it drives and what it leaves alone, and a route without traffic says so', () => {
    const start = describeEvent({
      type: 'start', planId: 'abc', steps: 2, store: 'file:///s.json', holder: 'me', dryRun: false, metricsSource: 'proxies',
      driven: { routes: ['balance'], left: [{ route: 'default', why: 'the catch-all default route (requests no route matches); name it to include it' }] },
    });
    expect(start.slice(1)).toEqual(['the plan names no routes: it drives balance', '  not default: the catch-all default route (requests no route matches); name it to include it']);
    const idle = describeEvent({ type: 'no-traffic', step: 1, of: 2, routes: ['statement'], windowSeconds: 31 });
    expect(idle[0]).toMatch(/^no traffic at all on statement in the last 31s \(neither legacy nor V2 served a request\)/);
  });
});
