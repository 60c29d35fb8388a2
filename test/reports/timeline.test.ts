/**
 * The rollout timeline from history entries: V2's share per route over time, one event per
 * entry with its reason, checks with their numbers, and the cap on events.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../reports/build.js';
import { buildTimeline, shareOf } from '../../reports/timeline.js';
import type { HistoryEntry } from '../../shared/state/types.js';

const at = (min: number) => new Date(Date.UTC(2026, 10, 23, 10, min)).toISOString();
const entry = (version: number, min: number, action: string, changes: HistoryEntry['changes'], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
  version,
  at: at(min),
  by: 'tester',
  action,
  changes,
  ...extra,
});

describe('buildTimeline', () => {
  it("maps mode and weight to V2's share", () => {
    expect([shareOf('legacy', 50), shareOf('mirror', 50), shareOf('canary', 12.5), shareOf('v2', 0)]).toEqual([0, 0, 12.5, 100]);
  });

  it('follows whole-state seeds, per-field changes and route names with dots, sorted by version', () => {
    const tl = buildTimeline([
      entry(3, 20, 'set-weight', [{ path: 'routes.api.v1.balance.weight', from: 5, to: 50 }]),
      entry(1, 0, 'init', [{ path: '', from: null, to: { routes: { 'api.v1.balance': { mode: 'canary', weight: 1 } } } }]),
      entry(2, 10, 'set-weight', [{ path: 'routes.api.v1.balance.weight', from: 1, to: 5 }], { reason: 'step 2', ticket: 'REL-1' }),
      entry(4, 30, 'abort', [{ path: 'routes.api.v1.balance', from: { mode: 'canary', weight: 50 }, to: { mode: 'legacy', weight: 0 } }, { path: 'aborted', from: false, to: true }]),
    ]);
    expect(tl.series).toEqual([
      {
        route: 'api.v1.balance',
        points: [
          { at: at(0), share: 1, mode: 'canary', weight: 1 },
          { at: at(10), share: 5, mode: 'canary', weight: 5 },
          { at: at(20), share: 50, mode: 'canary', weight: 50 },
          { at: at(30), share: 0, mode: 'legacy', weight: 0 },
        ],
      },
    ]);
    expect(tl.events.map((e) => [e.version, e.kind, e.summary])).toEqual([
      [1, 'other', 'api.v1.balance: → canary 1'],
      [2, 'weight', 'api.v1.balance: canary 1 → canary 5'],
      [3, 'weight', 'api.v1.balance: canary 5 → canary 50'],
      [4, 'abort', 'api.v1.balance: canary 50 → legacy; aborted: false → true'],
    ]);
    // each field change stays available for the details view
    expect(tl.events[1]!.details).toBe('api.v1.balance: weight 1 → 5');
    expect(tl.events[1]).toMatchObject({ reason: 'step 2', ticket: 'REL-1', routes: ['api.v1.balance'] });
    expect([tl.from, tl.to]).toEqual([at(0), at(30)]);
  });

  it('seeds a route from the `from` of its first change when the history starts later', () => {
    const tl = buildTimeline([entry(7, 5, 'set-weight', [{ path: 'routes.b.weight', from: 10, to: 20 }])]);
    expect(tl.series[0]!.points.map((p) => p.share)).toEqual([20]);
    const tl2 = buildTimeline([entry(7, 5, 'mode', [{ path: 'routes.b.mode', from: 'mirror', to: 'canary' }]), entry(8, 6, 'set-weight', [{ path: 'routes.b.weight', from: 0, to: 5 }])]);
    expect(tl2.series[0]!.points.map((p) => [p.mode, p.share])).toEqual([
      ['canary', 0],
      ['canary', 5],
    ]);
  });

  it("reads a check's result, routes and numbers, and names the failed checks", () => {
    const tl = buildTimeline([
      entry(1, 0, 'check', [], {
        data: {
          verdict: 'fail',
          checks: [
            { route: 'b', check: 'errorRate', status: 'pass', value: 0.001, limit: 0.01 },
            { route: 'b', check: 'latencyP99Ms', status: 'fail', value: 320, limit: 250, reason: 'latencyP99Ms 320 > 250 on route b' },
          ],
        },
      }),
    ]);
    expect(tl.events[0]).toMatchObject({
      kind: 'check',
      result: 'fail',
      routes: ['b'],
      summary: 'check fail on b: 1 failed',
      numbers: { 'b errorRate': 0.001, 'b errorRate limit': 0.01, 'b latencyP99Ms': 320, 'b latencyP99Ms limit': 250 },
    });
    expect(tl.events[0]!.details).toContain('FAIL latencyP99Ms 320 > 250 on route b');
  });

  it('shows a change as the route going from one state to the next, routes with the same change together, numbers rounded', () => {
    const tl = buildTimeline([
      entry(1, 0, 'init', [{ path: 'routes', from: null, to: { a: { mode: 'canary', weight: 10 }, b: { mode: 'canary', weight: 10 }, c: { mode: 'mirror', weight: 0 } } }]),
      entry(2, 1, 'abort', [
        { path: 'routes.a.mode', from: 'canary', to: 'legacy' },
        { path: 'routes.a.weight', from: 10, to: 0 },
        { path: 'routes.b.mode', from: 'canary', to: 'legacy' },
        { path: 'routes.b.weight', from: 10, to: 0 },
        { path: 'routes.c.mode', from: 'mirror', to: 'legacy' },
      ], { reason: 'cutover run (plan 0123456789abcdef) rolled back at step 2 of 3: x' }),
      entry(3, 2, 'check', [], { data: { planId: 'fedcba9876543210', checks: [{ route: 'a', check: 'latencyP95Ms', status: 'fail', value: 2.3323809999965306, limit: 1 }] } }),
    ]);
    expect(tl.events[1]!.summary).toBe('a, b: canary 10 → legacy; c: mirror → legacy');
    expect(tl.events[1]!.planId).toBe('0123456789abcdef');
    expect(tl.events[2]!.planId).toBe('fedcba9876543210');
    expect(tl.events[2]!.numbers['a latencyP95Ms']).toBe(2.33);
  });

  it('keeps the report under its event cap by leaving out the oldest passing checks first', () => {
    const history: HistoryEntry[] = [entry(1, 0, 'init', [{ path: 'routes', from: null, to: { b: { mode: 'mirror', weight: 0 } } }])];
    for (let i = 0; i < 30; i++) history.push(entry(2 + i, 1 + i, 'check', [], { data: { verdict: i === 3 ? 'fail' : 'pass' } }));
    history.push(entry(40, 50, 'abort', [{ path: 'aborted', from: false, to: true }], { reason: 'manual' }));
    const m = buildReport({ history, limits: { timelineEvents: 5 } });
    expect(m.limits.eventsOmitted).toBe(27);
    expect(m.timeline.events.map((e) => [e.action, e.result])).toEqual([
      ['init', null],
      ['check', 'fail'],
      ['check', 'pass'],
      ['check', 'pass'],
      ['abort', null],
    ]);
    expect(m.timeline.events[2]!.version).toBe(30); // the newest passing checks stay
  });
});
