// The edges of every state transition rule: each limit at, under and over; each refusal with
// the exact message a user reads; each branch of the mode/weight rules.
import { describe, expect, it } from 'vitest';
import { isCutoverError } from '../../shared/errors.js';
import {
  abort,
  applyChange,
  checkReplacement,
  diffStates,
  initialStateFromConfig,
  parseMode,
  parseWeight,
  promote,
  resume,
  setMode,
  setWeight,
  withServedRoutes,
} from '../../shared/state/transitions.js';
import type { RolloutState } from '../../shared/state/types.js';

function state(over: Partial<RolloutState> = {}): RolloutState {
  return {
    schemaVersion: 1,
    version: 3,
    epoch: 'e1',
    routes: { balance: { mode: 'canary', weight: 5 }, tx: { mode: 'mirror', weight: 0 } },
    paused: false,
    aborted: false,
    updatedBy: 'x',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function errorOf(fn: () => unknown): { code: string; message: string; exitCode: number } {
  try {
    fn();
  } catch (err) {
    if (isCutoverError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const ABORTED = 'CUTOVER_ERR_ROLLOUT_ABORTED';

describe('weights as text and numbers', () => {
  it('accepts surrounding whitespace, and two decimals after trimming', () => {
    expect(parseWeight(' 5')).toBe(5);
    expect(parseWeight('5 ')).toBe(5);
    expect(parseWeight(' 1.25 ')).toBe(1.25);
  });

  it('refuses text that is not a plain number, quoting it', () => {
    expect(errorOf(() => parseWeight('abc')).message).toBe('weight: must be a number between 0 and 100 (got "abc")');
    expect(errorOf(() => parseWeight('x5')).message).toBe('weight: must be a number between 0 and 100 (got "x5")');
    expect(errorOf(() => parseWeight('5x')).message).toBe('weight: must be a number between 0 and 100 (got "5x")');
    expect(errorOf(() => parseWeight(undefined)).message).toBe('weight: must be a number between 0 and 100 (got null)');
    // A JSON body may carry anything: an array whose text looks like a number is still refused.
    expect(errorOf(() => parseWeight(['5'])).message).toBe('weight: must be a number between 0 and 100 (got ["5"])');
  });

  it('refuses a third decimal in text, naming the trimmed text', () => {
    expect(errorOf(() => parseWeight('12.345')).message).toBe('weight: "12.345" has more than two decimals (weights go in steps of 0.01)');
    expect(errorOf(() => parseWeight(' 1.234 ')).message).toBe('weight: "1.234" has more than two decimals (weights go in steps of 0.01)');
  });

  it('refuses a third decimal in a number', () => {
    expect(errorOf(() => parseWeight(0.001)).message).toBe('weight: 0.001 has more than two decimals (weights go in steps of 0.01)');
  });

  it('absorbs float noise in a number with two decimals', () => {
    expect(parseWeight(0.1 + 0.2)).toBe(0.3);
  });

  it('refuses a negative number and a number over 100, at and just past each end', () => {
    expect(parseWeight(0)).toBe(0);
    expect(parseWeight(100)).toBe(100);
    expect(errorOf(() => parseWeight(-1)).message).toBe('weight: must be between 0 and 100 (got -1)');
    expect(errorOf(() => parseWeight(-0.01)).message).toBe('weight: must be between 0 and 100 (got -0.01)');
    expect(errorOf(() => parseWeight(100.01)).message).toBe('weight: must be between 0 and 100 (got 100.01)');
    expect(errorOf(() => parseWeight(' 101 ')).message).toBe('weight: must be between 0 and 100 (got 101)');
  });

  it('names the field it was given', () => {
    expect(errorOf(() => parseWeight(-1, 'max-step')).message).toMatch(/^max-step: /);
  });

  it('modes: the four names, anything else refused with the list', () => {
    for (const m of ['legacy', 'mirror', 'canary', 'v2']) expect(parseMode(m)).toBe(m);
    expect(errorOf(() => parseMode('blue')).message).toBe('mode: unknown mode "blue"; use one of legacy, mirror, canary, v2');
    expect(errorOf(() => parseMode(undefined)).message).toBe('mode: unknown mode null; use one of legacy, mirror, canary, v2');
  });
});

describe('setWeight', () => {
  it('requires a route, listing the known ones (or none)', () => {
    expect(errorOf(() => setWeight(state(), { weight: 1 })).message).toBe('route: is required; known routes: balance, tx');
    expect(errorOf(() => setWeight(state(), { route: '', weight: 1 })).message).toBe('route: is required; known routes: balance, tx');
    expect(errorOf(() => setWeight(state({ routes: {} }), { route: 'x', weight: 1 })).message).toBe('route: unknown route "x"; known routes: (none)');
  });

  it('refuses --all with a route name', () => {
    expect(errorOf(() => setWeight(state(), { all: true, route: 'tx', weight: 1 })).message).toBe('route: give a route name or --all, not both');
  });

  it('holds a raise to --max-step: at the step allowed, one hundredth over refused with the numbers', () => {
    expect(setWeight(state(), { route: 'balance', weight: 7, maxStep: 2 }).next.routes.balance).toEqual({ mode: 'canary', weight: 7 });
    const e = errorOf(() => setWeight(state(), { route: 'balance', weight: 7.01, maxStep: 2 }));
    expect(e.message).toBe('weight: raising balance from 5 to 7.01 is a jump of 2.01 points, more than --max-step 2; take smaller steps or add --force');
    expect(e.exitCode).toBe(2);
    expect(errorOf(() => setWeight(state(), { route: 'balance', weight: 6, maxStep: 'abc' })).message).toMatch(/^max-step: must be a number/);
  });

  it('counts the step from what V2 serves now: a mirror route serves none, a v2 route all', () => {
    const s = state({ routes: { m: { mode: 'mirror', weight: 30 }, l: { mode: 'legacy', weight: 30 }, v: { mode: 'v2', weight: 100 } } });
    expect(errorOf(() => setWeight(s, { route: 'm', weight: 50 })).message).toContain('from 0 to 50 is a jump of 50 points');
    expect(errorOf(() => setWeight(s, { route: 'l', weight: 50 })).message).toContain('from 0 to 50 is a jump of 50 points');
    expect(setWeight(s, { route: 'v', weight: 90 }).next.routes.v).toEqual({ mode: 'canary', weight: 90 });
  });

  it('while aborted refuses a raise with a message saying how to resume, even a route left at legacy with a weight', () => {
    const s = state({ aborted: true, abortReason: 'errors up', routes: { l: { mode: 'legacy', weight: 10 } } });
    const e = errorOf(() => setWeight(s, { route: 'l', weight: 5 }));
    expect(e.code).toBe(ABORTED);
    expect(e.message).toBe('raising l to 5 refused: the rollout is aborted ("errors up"); run `cutover resume --reason TEXT` first');
  });

  it('is the action set-weight', () => {
    expect(setWeight(state(), { route: 'balance', weight: 6 }).action).toBe('set-weight');
  });
});

describe('setMode', () => {
  it('sets the weight that goes with the mode: v2 100, canary keeps its weight, mirror and legacy 0', () => {
    expect(setMode(state(), { route: 'balance', mode: 'v2' }).next.routes.balance).toEqual({ mode: 'v2', weight: 100 });
    expect(setMode(state(), { route: 'balance', mode: 'canary' }).next.routes.balance).toEqual({ mode: 'canary', weight: 5 });
    expect(setMode(state(), { route: 'balance', mode: 'mirror' }).next.routes.balance).toEqual({ mode: 'mirror', weight: 0 });
    expect(setMode(state(), { route: 'balance', mode: 'legacy' }).next.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
    expect(setMode(state(), { route: 'balance', mode: 'legacy' }).action).toBe('mode');
  });

  it('while aborted refuses v2 as well as canary, naming the route and the abort reason', () => {
    const s = abort(state(), { reason: 'errors up' }).next;
    const v2 = errorOf(() => setMode(s, { route: 'tx', mode: 'v2' }));
    expect(v2.code).toBe(ABORTED);
    expect(v2.message).toBe('mode v2 for tx refused: the rollout is aborted ("errors up"); run `cutover resume --reason TEXT` first');
    expect(errorOf(() => setMode(s, { route: 'tx', mode: 'canary' })).code).toBe(ABORTED);
    expect(setMode(s, { route: 'tx', mode: 'mirror' }).next.routes.tx).toEqual({ mode: 'mirror', weight: 0 });
  });

  it('while aborted, naming the mode a route already has changes nothing and is not refused', () => {
    const s = abort(state(), { reason: 'one route', route: 'tx' }).next;
    expect(s.routes.balance).toEqual({ mode: 'canary', weight: 5 });
    expect(setMode(s, { route: 'balance', mode: 'canary' }).changes).toEqual([]);
  });
});

describe('resume, promote, abort', () => {
  it('abort trims its reason; resume after it needs one, saying why', () => {
    const a = abort(state(), { reason: '  errors up  ' });
    expect(a.next.abortReason).toBe('errors up');
    expect(a.action).toBe('abort');
    expect(errorOf(() => abort(state(), {})).message).toBe('reason: is required to abort (it goes into the history)');
    expect(errorOf(() => resume(a.next, {})).message).toBe('reason: is required to resume after an abort (say why it is safe to ramp again)');
  });

  it('resume lists un-pausing as a change from true to false', () => {
    const r = resume(state({ paused: true }));
    expect(r.action).toBe('resume');
    expect(r.changes).toEqual([{ path: 'paused', from: true, to: false }]);
  });

  it('promote un-pauses a manual pause without a plan', () => {
    const p = promote(state({ paused: true }));
    expect(p.action).toBe('promote');
    expect(p.next.paused).toBe(false);
    expect(p.next.plan).toBeUndefined();
  });

  it('promote with a running plan marks its step even when not paused', () => {
    const p = promote(state({ plan: { planId: 'p', step: 2, stepStartedAt: 't' } }));
    expect(p.next.plan!.detail).toEqual({ promotedStep: 2 });
  });

  it('promote with nothing to promote says what to do', () => {
    expect(errorOf(() => promote(state())).message).toBe(
      'promote: nothing to promote: no plan is running and the rollout is not paused; use --full to send every route to V2',
    );
  });

  it('promote --full un-pauses and sends every route to V2; refused while aborted, naming the verb', () => {
    const p = promote(state({ paused: true }), { full: true });
    expect(p.action).toBe('promote');
    expect(p.next.paused).toBe(false);
    expect(Object.values(p.next.routes)).toEqual([
      { mode: 'v2', weight: 100 },
      { mode: 'v2', weight: 100 },
    ]);
    const s = state({ aborted: true });
    expect(errorOf(() => promote(s, { full: true })).message).toBe('promote --full refused: the rollout is aborted; run `cutover resume --reason TEXT` first');
    expect(errorOf(() => promote(s)).message).toBe('promote refused: the rollout is aborted; run `cutover resume --reason TEXT` first');
  });
});

describe('applyChange', () => {
  it('dispatches each action to its transition', () => {
    const s = state({ paused: true });
    expect(applyChange(s, { action: 'set-weight', route: 'balance', weight: 6 }).next.routes.balance).toEqual({ mode: 'canary', weight: 6 });
    expect(applyChange(s, { action: 'mode', route: 'tx', mode: 'legacy' }).next.routes.tx).toEqual({ mode: 'legacy', weight: 0 });
    expect(applyChange(s, { action: 'pause' }).action).toBe('pause');
    expect(applyChange(s, { action: 'resume' }).next.paused).toBe(false);
    const aborted = state({ aborted: true, abortReason: 'r' });
    expect(applyChange(aborted, { action: 'resume', reason: 'fixed' }).next).toMatchObject({ aborted: false, paused: false });
    expect(applyChange(s, { action: 'promote', full: true }).next.routes.tx).toEqual({ mode: 'v2', weight: 100 });
    expect(applyChange(s, { action: 'abort', reason: 'r' }).next.aborted).toBe(true);
  });

  it('refuses an unknown or missing action with the list of actions', () => {
    const list = 'use one of set-weight, mode, pause, resume, promote, abort';
    expect(errorOf(() => applyChange(state(), { action: 'explode' } as never)).message).toBe(`action: unknown action "explode"; ${list}`);
    expect(errorOf(() => applyChange(state(), {} as never)).message).toBe(`action: unknown action null; ${list}`);
  });
});

describe('diffStates', () => {
  it('from nothing lists every route and field that is set', () => {
    expect(diffStates(undefined, { routes: { a: { mode: 'legacy', weight: 0 } }, paused: false })).toEqual([
      { path: 'routes.a', from: null, to: { mode: 'legacy', weight: 0 } },
      { path: 'paused', from: null, to: false },
    ]);
  });

  it('lists a removed route with its old value', () => {
    expect(diffStates(state(), { ...state(), routes: { balance: { mode: 'canary', weight: 5 } } })).toEqual([
      { path: 'routes.tx', from: { mode: 'mirror', weight: 0 }, to: null },
    ]);
  });
});

describe('seeding', () => {
  it('says the first state came from cutover.yaml', () => {
    const s = initialStateFromConfig({ routes: [], defaultRoute: { name: 'default', mode: 'legacy', weight: 0 } } as never);
    expect(s.updatedBy).toBe('cutover.yaml');
  });
});

describe('checkReplacement (whole-document writes)', () => {
  const aborted = state({ aborted: true, abortReason: 'r', routes: { balance: { mode: 'canary', weight: 5 }, tx: { mode: 'legacy', weight: 0 } } });

  it('allows any write when there is no state yet or the rollout is not aborted', () => {
    const raised = { ...state(), routes: { balance: { mode: 'v2' as const, weight: 100 } } };
    expect(() => checkReplacement(undefined, raised, undefined)).not.toThrow();
    expect(() => checkReplacement(state(), raised, undefined)).not.toThrow();
  });

  it('while aborted allows keeping or lowering each route, refuses one hundredth more', () => {
    expect(() => checkReplacement(aborted, { ...aborted }, undefined)).not.toThrow();
    expect(() => checkReplacement(aborted, { ...aborted, routes: { balance: { mode: 'canary', weight: 4.99 } } }, undefined)).not.toThrow();
    expect(() => checkReplacement(aborted, { ...aborted, routes: { balance: { mode: 'mirror', weight: 0 } } }, undefined)).not.toThrow();
    const e = errorOf(() => checkReplacement(aborted, { ...aborted, routes: { balance: { mode: 'canary', weight: 5.01 } } }, undefined));
    expect(e.code).toBe(ABORTED);
    expect(e.message).toBe('raising balance to 5.01 refused: the rollout is aborted ("r"); run `cutover resume --reason TEXT` first');
  });

  it('while aborted counts a route the state did not hold as serving nothing', () => {
    expect(errorOf(() => checkReplacement(aborted, { ...aborted, routes: { fresh: { mode: 'canary', weight: 0.01 } } }, undefined)).code).toBe(ABORTED);
    expect(() => checkReplacement(aborted, { ...aborted, routes: { fresh: { mode: 'mirror', weight: 0 } } }, undefined)).not.toThrow();
  });

  it('clearing aborted needs a reason, and then allows any routes', () => {
    expect(errorOf(() => checkReplacement(aborted, { ...aborted, aborted: false }, ' ')).message).toBe(
      'reason: is required to clear aborted (meta.reason: say why it is safe to ramp again)',
    );
    expect(() => checkReplacement(aborted, { ...aborted, aborted: false, routes: { balance: { mode: 'v2', weight: 100 } } }, 'fixed')).not.toThrow();
  });
});

describe('a set of routes (a service) in one change', () => {
  it('refuses an empty set, a set with a route the state does not hold, and a set together with a single route', () => {
    for (const change of [
      () => setWeight(state(), { routes: [], weight: 5 }),
      () => setMode(state(), { routes: [], mode: 'mirror' }),
      () => abort(state(), { routes: [], reason: 'r' }),
    ]) {
      expect(errorOf(change).message).toMatch(/^routes: must name at least one route/);
    }
    expect(errorOf(() => setWeight(state(), { routes: ['balance', 'nope'], weight: 5 })).message).toMatch(/^routes: .*nope/);
    expect(errorOf(() => abort(state(), { routes: ['balance'], route: 'tx', reason: 'r' })).message).toMatch(/^route: give a route or an upstream, not both/);
  });

  it('changes exactly the routes of the set and nothing else', () => {
    const s = state({ routes: { a: { mode: 'canary', weight: 5 }, b: { mode: 'canary', weight: 5 }, c: { mode: 'mirror', weight: 0 } } });
    expect(setWeight(s, { routes: ['a', 'b'], weight: 10 }).next.routes).toEqual({ a: { mode: 'canary', weight: 10 }, b: { mode: 'canary', weight: 10 }, c: { mode: 'mirror', weight: 0 } });
    expect(abort(s, { routes: ['b'], reason: 'r' }).next.routes).toEqual({ a: { mode: 'canary', weight: 5 }, b: { mode: 'legacy', weight: 0 }, c: { mode: 'mirror', weight: 0 } });
    expect(promote(s, { routes: ['c'], full: true }).next.routes).toEqual({ a: { mode: 'canary', weight: 5 }, b: { mode: 'canary', weight: 5 }, c: { mode: 'v2', weight: 100 } });
  });

  it('promotes a set only with full (it sends them to V2)', () => {
    expect(errorOf(() => promote(state({ paused: true }), { routes: ['balance'] })).message).toMatch(/^full: promoting a set of routes \(a service\) sends them to V2: it needs --full/);
  });
});

describe('withServedRoutes', () => {
  it('adds each served route the state lacks as legacy, and returns the same state when none is missing', () => {
    const s = state();
    expect(withServedRoutes(s, ['balance', 'tx'])).toBe(s);
    const w = withServedRoutes(s, ['balance', 'new', 'other']);
    expect(w.routes).toEqual({ ...s.routes, new: { mode: 'legacy', weight: 0 }, other: { mode: 'legacy', weight: 0 } });
    expect(s.routes).not.toHaveProperty('new');
  });
});
