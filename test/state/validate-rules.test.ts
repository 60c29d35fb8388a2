/**
 * The validated read of a stored rollout state, one rule at a time: every refusal of
 * stateProblem asserted whole (field and reason text), each field's rule at and past its
 * boundaries, and checkStoredState's error (code, message naming where and the field).
 * Documents are built inside each test.
 */
import { describe, expect, it } from 'vitest';
import { CutoverError } from '../../shared/errors.js';
import { checkStoredState, ROUTE_NAME_RE, stateProblem } from '../../shared/state/validate.js';

type Doc = Record<string, unknown>;

function valid(): Doc {
  return {
    schemaVersion: 1,
    version: 3,
    epoch: 'e1',
    routes: { orders: { mode: 'canary', weight: 12.5 } },
    paused: false,
    aborted: false,
    updatedBy: 'alice',
    updatedAt: '2026-12-03T00:00:00.000Z',
  };
}

function minimal(): Doc {
  return { version: 0, routes: {}, paused: false, aborted: false };
}

function withRoute(r: unknown, name = 'orders'): Doc {
  return { ...valid(), routes: { [name]: r } };
}

function waiver(): Doc {
  return { id: 'w1', route: 'orders', path: '$.a', kind: 'ignore', reason: 'r', author: 'a', createdAt: 'c', expiresAt: 'x' };
}

describe('stateProblem: accepted documents', () => {
  it('a full valid state has no problem', () => {
    expect(stateProblem(valid())).toBeUndefined();
  });

  it('a minimal state (no schemaVersion, epoch, strings, plan, waivers) has no problem', () => {
    expect(stateProblem(minimal())).toBeUndefined();
  });

  it('every mode is accepted', () => {
    for (const mode of ['legacy', 'mirror', 'canary', 'v2']) expect(stateProblem(withRoute({ mode, weight: 0 }))).toBeUndefined();
  });

  it('weight 0, 100 and two decimals are accepted', () => {
    for (const weight of [0, 100, 0.01, 99.99, 33.33, 0.29, 1.15]) expect(stateProblem(withRoute({ mode: 'canary', weight }))).toBeUndefined();
  });

  it('route names of letters, digits, _ . - are accepted', () => {
    expect(stateProblem(withRoute({ mode: 'v2', weight: 0 }, 'a-Z_0.9'))).toBeUndefined();
  });

  it('a valid plan (with and without detail) and valid waivers are accepted', () => {
    expect(stateProblem({ ...valid(), plan: { planId: 'p', step: 0, stepStartedAt: 't' } })).toBeUndefined();
    expect(stateProblem({ ...valid(), plan: { planId: 'p', step: 2, stepStartedAt: 't', detail: {} } })).toBeUndefined();
    expect(stateProblem({ ...valid(), waivers: [] })).toBeUndefined();
    expect(stateProblem({ ...valid(), waivers: [waiver(), waiver()] })).toBeUndefined();
  });
});

describe('stateProblem: root and header fields', () => {
  it('refuses a non-object root: null, array, string, number', () => {
    for (const doc of [null, [], 'x', 3, undefined]) expect(stateProblem(doc)).toEqual({ field: '(root)', reason: 'must be a JSON object' });
  });

  it('refuses a schemaVersion other than 1, naming what it got', () => {
    expect(stateProblem({ ...valid(), schemaVersion: 2 })).toEqual({ field: 'schemaVersion', reason: 'must be 1 (got 2)' });
    expect(stateProblem({ ...valid(), schemaVersion: '1' })).toEqual({ field: 'schemaVersion', reason: 'must be 1 (got "1")' });
    expect(stateProblem({ ...valid(), schemaVersion: null })).toEqual({ field: 'schemaVersion', reason: 'must be 1 (got null)' });
  });

  it('version 0 is accepted; -1, 1.5, a string and a missing version are refused', () => {
    expect(stateProblem({ ...valid(), version: 0 })).toBeUndefined();
    expect(stateProblem({ ...valid(), version: -1 })).toEqual({ field: 'version', reason: 'must be a whole number >= 0 (got -1)' });
    expect(stateProblem({ ...valid(), version: 1.5 })).toEqual({ field: 'version', reason: 'must be a whole number >= 0 (got 1.5)' });
    expect(stateProblem({ ...valid(), version: '3' })).toEqual({ field: 'version', reason: 'must be a whole number >= 0 (got "3")' });
    const noVersion = valid();
    delete noVersion.version;
    expect(stateProblem(noVersion)).toEqual({ field: 'version', reason: 'must be a whole number >= 0 (got undefined)' });
  });

  it('refuses an empty or non-string epoch', () => {
    expect(stateProblem({ ...valid(), epoch: '' })).toEqual({ field: 'epoch', reason: 'must be a non-empty string' });
    expect(stateProblem({ ...valid(), epoch: 7 })).toEqual({ field: 'epoch', reason: 'must be a non-empty string' });
  });

  it('refuses routes that are not an object, naming what it got', () => {
    const reason = (got: string) => `must be an object of route name -> { mode, weight } (got ${got})`;
    expect(stateProblem({ ...valid(), routes: [] })).toEqual({ field: 'routes', reason: reason('[]') });
    expect(stateProblem({ ...valid(), routes: null })).toEqual({ field: 'routes', reason: reason('null') });
    expect(stateProblem({ ...valid(), routes: undefined })).toEqual({ field: 'routes', reason: reason('undefined') });
  });

  it('shortens a long value shown in a reason to 57 characters and ...', () => {
    const long = 'x'.repeat(100);
    const shown = JSON.stringify(long).slice(0, 57) + '...';
    expect(stateProblem({ ...valid(), routes: long })).toEqual({ field: 'routes', reason: `must be an object of route name -> { mode, weight } (got ${shown})` });
  });

  it('shows a value of exactly 60 characters whole and one of 61 shortened', () => {
    const sixty = 'y'.repeat(58); // JSON form is 60 characters with its quotes
    expect(stateProblem({ ...valid(), routes: sixty })).toEqual({ field: 'routes', reason: `must be an object of route name -> { mode, weight } (got "${sixty}")` });
    const sixtyOne = 'y'.repeat(59);
    expect(stateProblem({ ...valid(), routes: sixtyOne })).toEqual({
      field: 'routes',
      reason: `must be an object of route name -> { mode, weight } (got "${'y'.repeat(56)}...)`,
    });
  });
});

describe('stateProblem: routes', () => {
  it('refuses a route name outside letters, digits, _ . -', () => {
    for (const name of ['a b', 'a/b', 'é', '']) {
      expect(stateProblem(withRoute({ mode: 'v2', weight: 0 }, name))).toEqual({ field: `routes.${name}`, reason: 'route names are letters, digits, _ . or -' });
    }
  });

  it('ROUTE_NAME_RE is anchored at both ends', () => {
    expect(ROUTE_NAME_RE.test('ok')).toBe(true);
    expect(ROUTE_NAME_RE.test(' ok')).toBe(false);
    expect(ROUTE_NAME_RE.test('ok ')).toBe(false);
  });

  it('refuses a route that is not an object', () => {
    expect(stateProblem(withRoute('canary'))).toEqual({ field: 'routes.orders', reason: 'must be { mode, weight } (got "canary")' });
    expect(stateProblem(withRoute(null))).toEqual({ field: 'routes.orders', reason: 'must be { mode, weight } (got null)' });
    expect(stateProblem(withRoute([]))).toEqual({ field: 'routes.orders', reason: 'must be { mode, weight } (got [])' });
  });

  it('refuses an unknown or missing mode, listing the modes', () => {
    const reason = (got: string) => `must be one of legacy, mirror, canary, v2 (got ${got})`;
    expect(stateProblem(withRoute({ mode: 'bogus', weight: 0 }))).toEqual({ field: 'routes.orders.mode', reason: reason('"bogus"') });
    expect(stateProblem(withRoute({ mode: 3, weight: 0 }))).toEqual({ field: 'routes.orders.mode', reason: reason('3') });
    expect(stateProblem(withRoute({ weight: 0 }))).toEqual({ field: 'routes.orders.mode', reason: reason('undefined') });
  });

  it('refuses a weight below 0, past 100, not finite or not a number', () => {
    const reason = (got: string) => `must be a number between 0 and 100 (got ${got})`;
    const f = 'routes.orders.weight';
    expect(stateProblem(withRoute({ mode: 'canary', weight: -0.01 }))).toEqual({ field: f, reason: reason('-0.01') });
    expect(stateProblem(withRoute({ mode: 'canary', weight: 100.01 }))).toEqual({ field: f, reason: reason('100.01') });
    expect(stateProblem(withRoute({ mode: 'canary', weight: 500 }))).toEqual({ field: f, reason: reason('500') });
    expect(stateProblem(withRoute({ mode: 'canary', weight: Infinity }))).toEqual({ field: f, reason: reason('null') });
    expect(stateProblem(withRoute({ mode: 'canary', weight: NaN }))).toEqual({ field: f, reason: reason('null') });
    expect(stateProblem(withRoute({ mode: 'canary', weight: '50' }))).toEqual({ field: f, reason: reason('"50"') });
    expect(stateProblem(withRoute({ mode: 'canary' }))).toEqual({ field: f, reason: reason('undefined') });
  });

  it('refuses a weight with three decimals', () => {
    expect(stateProblem(withRoute({ mode: 'canary', weight: 12.345 }))).toEqual({ field: 'routes.orders.weight', reason: '12.345 has more than two decimals' });
    expect(stateProblem(withRoute({ mode: 'canary', weight: 0.001 }))).toEqual({ field: 'routes.orders.weight', reason: '0.001 has more than two decimals' });
    expect(stateProblem(withRoute({ mode: 'canary', weight: 99.995 }))).toEqual({ field: 'routes.orders.weight', reason: '99.995 has more than two decimals' });
  });

  it('tolerates float noise of up to 1e-6 of a hundredth, inclusive (weight 1e-8 is exactly at it)', () => {
    // 1e-8 * 100 is exactly 1e-6 in doubles: the tolerance's edge, accepted; 2e-8 is past it.
    expect(stateProblem(withRoute({ mode: 'canary', weight: 1e-8 }))).toBeUndefined();
    expect(stateProblem(withRoute({ mode: 'canary', weight: 2e-8 }))).toEqual({ field: 'routes.orders.weight', reason: '2e-8 has more than two decimals' });
  });

  it('refuses an unknown route field, naming it', () => {
    expect(stateProblem(withRoute({ mode: 'canary', weight: 1, sticky: true }))).toEqual({ field: 'routes.orders.sticky', reason: 'unknown field' });
    expect(stateProblem(withRoute({ extra: 1, mode: 'canary', weight: 1 }))).toEqual({ field: 'routes.orders.extra', reason: 'unknown field' });
  });

  it('checks every route, not only the first', () => {
    const doc = { ...valid(), routes: { a: { mode: 'v2', weight: 0 }, b: { mode: 'nope', weight: 0 } } };
    expect(stateProblem(doc)).toEqual({ field: 'routes.b.mode', reason: 'must be one of legacy, mirror, canary, v2 (got "nope")' });
  });
});

describe('stateProblem: flags and strings', () => {
  it('refuses a missing or non-boolean paused or aborted', () => {
    expect(stateProblem({ ...valid(), paused: 'no' })).toEqual({ field: 'paused', reason: 'must be true or false (got "no")' });
    expect(stateProblem({ ...valid(), aborted: 0 })).toEqual({ field: 'aborted', reason: 'must be true or false (got 0)' });
    const noAborted = valid();
    delete noAborted.aborted;
    expect(stateProblem(noAborted)).toEqual({ field: 'aborted', reason: 'must be true or false (got undefined)' });
    expect(stateProblem({ ...valid(), paused: true, aborted: true })).toBeUndefined();
  });

  it('refuses a non-string abortReason, updatedBy or updatedAt', () => {
    expect(stateProblem({ ...valid(), abortReason: 1 })).toEqual({ field: 'abortReason', reason: 'must be a string (got 1)' });
    expect(stateProblem({ ...valid(), updatedBy: null })).toEqual({ field: 'updatedBy', reason: 'must be a string (got null)' });
    expect(stateProblem({ ...valid(), updatedAt: {} })).toEqual({ field: 'updatedAt', reason: 'must be a string (got {})' });
    expect(stateProblem({ ...valid(), abortReason: 'why' })).toBeUndefined();
  });
});

describe('stateProblem: plan', () => {
  it('refuses a plan that is not an object', () => {
    expect(stateProblem({ ...valid(), plan: 'p' })).toEqual({ field: 'plan', reason: 'must be an object' });
    expect(stateProblem({ ...valid(), plan: null })).toEqual({ field: 'plan', reason: 'must be an object' });
  });

  it('refuses an empty or non-string planId', () => {
    expect(stateProblem({ ...valid(), plan: { planId: '', step: 0, stepStartedAt: 't' } })).toEqual({ field: 'plan.planId', reason: 'must be a non-empty string' });
    expect(stateProblem({ ...valid(), plan: { planId: 1, step: 0, stepStartedAt: 't' } })).toEqual({ field: 'plan.planId', reason: 'must be a non-empty string' });
  });

  it('refuses a step of -1, 1.5 or a string', () => {
    for (const step of [-1, 1.5, '1']) {
      expect(stateProblem({ ...valid(), plan: { planId: 'p', step, stepStartedAt: 't' } })).toEqual({ field: 'plan.step', reason: 'must be a whole number >= 0' });
    }
  });

  it('refuses a non-string stepStartedAt', () => {
    expect(stateProblem({ ...valid(), plan: { planId: 'p', step: 0 } })).toEqual({ field: 'plan.stepStartedAt', reason: 'must be a string' });
  });

  it('refuses a detail that is not an object', () => {
    expect(stateProblem({ ...valid(), plan: { planId: 'p', step: 0, stepStartedAt: 't', detail: [] } })).toEqual({ field: 'plan.detail', reason: 'must be an object' });
  });
});

describe('stateProblem: waivers', () => {
  it('refuses waivers that are not a list', () => {
    expect(stateProblem({ ...valid(), waivers: {} })).toEqual({ field: 'waivers', reason: 'must be a list' });
  });

  it('refuses a waiver that is not an object, naming its index', () => {
    expect(stateProblem({ ...valid(), waivers: [waiver(), 'w'] })).toEqual({ field: 'waivers[1]', reason: 'must be an object' });
  });

  it('refuses each missing waiver field, naming index and field', () => {
    for (const k of ['id', 'route', 'path', 'kind', 'reason', 'author', 'createdAt', 'expiresAt']) {
      const w = waiver();
      w[k] = 5;
      expect(stateProblem({ ...valid(), waivers: [waiver(), w] })).toEqual({ field: `waivers[1].${k}`, reason: 'must be a string' });
    }
  });
});

describe('checkStoredState', () => {
  it('returns a valid document as the state', () => {
    const doc = valid();
    expect(checkStoredState(doc, 'the file x')).toBe(doc);
  });

  it('throws CUTOVER_ERR_STATE_CORRUPT naming where and the field', () => {
    let err: unknown;
    try {
      checkStoredState({ ...valid(), routes: { orders: { mode: 'canary', weight: 500 } } }, 'Redis key cutover:state');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CutoverError);
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_STATE_CORRUPT');
    expect((err as CutoverError).message).toBe(
      'the rollout state in Redis key cutover:state is unreadable (routes.orders.weight: must be a number between 0 and 100 (got 500)); nothing acts on it: restore it from the history or a backup',
    );
  });
});
