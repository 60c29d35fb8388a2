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
    expect(lines[0]).toMatchObject({ schemaVersion: 1, type: 'step', step: 2, routes: { balance: { weight: 25 } } });
    expect(Date.parse(lines[1].at)).not.toBeNaN();
  });

  it('plain lines print a hold once per reason, and failing checks with their numbers', () => {
    let out = '';
    const r = new PlainReporter((s) => (out += s));
    const hold: RunEvent = { type: 'hold', step: 0, of: 2, reason: 'step 1 of 2: holding', remainingMs: 5000 };
    r.emit(hold);
    r.emit({ ...hold, remainingMs: 4000 });
    r.emit({ type: 'check', step: 0, of: 2, windowSeconds: 31, verdict: 'fail', checks: [failing], skipped: [], replicas: ['a', 'b'] });
    expect(out).toBe(
      'hold: step 1 of 2: holding (5s left)\ncheck step 1 of 2 (last 31s, 2 replicas): FAIL\n  FAIL errorRate 0.052 > 0.01 on route balance at weight 25\n',
    );
  });

  it('the TTY view redraws in place: step k of n, weight per route, time left in the hold, the last checks', () => {
    let out = '';
    const stream = { write: (s: string) => (out += s), columns: 100 };
    const r = new TtyReporter(stream, { color: false, redrawMs: 60_000 });
    r.emit({ type: 'step', step: 1, of: 4, description: 'weight 25, hold 5m on balance, members', routes: { balance: { mode: 'canary', weight: 25 }, members: { mode: 'canary', weight: 25 } } });
    r.emit({ type: 'hold', step: 1, of: 4, reason: 'step 2 of 4: holding', remainingMs: 290_000 });
    r.emit({ type: 'check', step: 1, of: 4, windowSeconds: 31, verdict: 'fail', checks: [failing], skipped: [], replicas: ['a'] });
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
    const lines = describeEvent({ type: 'rollback', step: 2, of: 5, reason: 'errorRate 0.052 > 0.01 on route balance at weight 25', critical: false, applied: false, notApplied: ['proxy-2'] });
    expect(lines).toEqual(['ROLLBACK at step 3 of 5: errorRate 0.052 > 0.01 on route balance at weight 25', '  not applied by: proxy-2']);
  });
});
