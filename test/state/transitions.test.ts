import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../shared/config.js';
import { isCutoverError } from '../../shared/errors.js';
import {
  abort,
  applyChange,
  checkReplacement,
  diffStates,
  initialStateFromConfig,
  parseWeight,
  pause,
  promote,
  resume,
  setMode,
  setWeight,
  validateChangeRequest,
  validateStateDocument,
  type RolloutState,
} from '../../shared/state/index.js';
import { supersedes } from '../../shared/state/versioning.js';

function base(over: Partial<RolloutState> = {}): RolloutState {
  return {
    schemaVersion: 1,
    version: 7,
    epoch: 'e1',
    routes: { balance: { mode: 'canary', weight: 5 }, tx: { mode: 'mirror', weight: 0 }, default: { mode: 'legacy', weight: 0 } },
    paused: false,
    aborted: false,
    updatedBy: 'x',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function errorOf(fn: () => unknown): { code: string; message: string; exitCode: number; status: number } {
  try {
    fn();
  } catch (err) {
    if (isCutoverError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('weights', () => {
  it('accepts 0..100 with at most two decimals, as numbers or text', () => {
    expect(parseWeight('0')).toBe(0);
    expect(parseWeight('12.34')).toBe(12.34);
    expect(parseWeight(100)).toBe(100);
    expect(parseWeight(0.01)).toBe(0.01);
  });

  it.each([['12.345'], ['-1'], ['100.01'], ['abc'], [''], [101], [Number.NaN], [0.001]])('refuses %s naming the weight', (w) => {
    const e = errorOf(() => parseWeight(w));
    expect(e.exitCode).toBe(2);
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^weight: /);
  });
});

describe('setWeight', () => {
  it('puts the route in canary at the weight and lists the changes', () => {
    const t = setWeight(base(), { route: 'tx', weight: 10 });
    expect(t.next.routes.tx).toEqual({ mode: 'canary', weight: 10 });
    expect(t.changes).toEqual([
      { path: 'routes.tx.mode', from: 'mirror', to: 'canary' },
      { path: 'routes.tx.weight', from: 0, to: 10 },
    ]);
    expect(t.next.version).toBe(7);
  });

  it('refuses a raise above --max-step without force, allows it with force, never blocks lowering', () => {
    const e = errorOf(() => setWeight(base(), { route: 'balance', weight: 30.01 }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('--max-step 25');
    expect(setWeight(base(), { route: 'balance', weight: 30 }).next.routes.balance!.weight).toBe(30);
    expect(setWeight(base(), { route: 'balance', weight: 90, force: true }).next.routes.balance!.weight).toBe(90);
    expect(setWeight(base(), { route: 'balance', weight: 6, maxStep: 1 }).next.routes.balance!.weight).toBe(6);
    const high = base({ routes: { balance: { mode: 'v2', weight: 100 } } });
    expect(setWeight(high, { route: 'balance', weight: 0 }).next.routes.balance).toEqual({ mode: 'canary', weight: 0 });
  });

  it('names the unknown route and lists the known ones', () => {
    const e = errorOf(() => setWeight(base(), { route: 'nope', weight: 1 }));
    expect(e.message).toBe('route: unknown route "nope"; known routes: balance, tx, default');
    expect(e.exitCode).toBe(2);
  });

  it('--all sets every route', () => {
    const t = setWeight(base(), { all: true, weight: 20 });
    expect(Object.values(t.next.routes).every((r) => r.mode === 'canary' && r.weight === 20)).toBe(true);
  });

  it('refuses to raise an aborted rollout (exit 1), lowering is allowed', () => {
    const s = base({ aborted: true, abortReason: 'errors', routes: { balance: { mode: 'legacy', weight: 0 } } });
    const e = errorOf(() => setWeight(s, { route: 'balance', weight: 1 }));
    expect(e.code).toBe('CUTOVER_ERR_ROLLOUT_ABORTED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('resume');
    expect(setWeight(s, { route: 'balance', weight: 0 }).changes).toEqual([{ path: 'routes.balance.mode', from: 'legacy', to: 'canary' }]);
  });
});

describe('mode, pause, resume, promote, abort', () => {
  it('mode validates the mode and refuses canary/v2 while aborted', () => {
    expect(setMode(base(), { route: 'tx', mode: 'v2' }).next.routes.tx).toEqual({ mode: 'v2', weight: 100 });
    expect(errorOf(() => setMode(base(), { route: 'tx', mode: 'blue' })).message).toMatch(/^mode: unknown mode "blue"/);
    const aborted = base({ aborted: true, abortReason: 'r' });
    expect(errorOf(() => setMode(aborted, { route: 'tx', mode: 'canary' })).code).toBe('CUTOVER_ERR_ROLLOUT_ABORTED');
    expect(setMode(aborted, { route: 'balance', mode: 'mirror' }).next.routes.balance!.mode).toBe('mirror');
  });

  it('pause is idempotent: a second pause has no changes', () => {
    const p = pause(base());
    expect(p.changes).toEqual([{ path: 'paused', from: false, to: true }]);
    expect(pause(p.next).changes).toEqual([]);
  });

  it('abort needs a reason, sends every route (or one) to legacy and marks the rollout aborted', () => {
    expect(errorOf(() => abort(base(), { reason: '  ' })).message).toMatch(/^reason: is required/);
    const all = abort(base(), { reason: 'errors up' });
    expect(Object.values(all.next.routes).every((r) => r.mode === 'legacy' && r.weight === 0)).toBe(true);
    expect(all.next.aborted).toBe(true);
    expect(all.next.abortReason).toBe('errors up');
    const one = abort(base(), { reason: 'x', route: 'balance' });
    expect(one.next.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
    expect(one.next.routes.tx).toEqual({ mode: 'mirror', weight: 0 });
    expect(errorOf(() => abort(base(), { reason: 'x', route: 'zz' })).message).toContain('known routes: balance, tx, default');
  });

  it('resume after an abort needs a reason and clears aborted; routes stay at legacy', () => {
    const a = abort(base(), { reason: 'r' }).next;
    expect(errorOf(() => resume(a, {})).message).toMatch(/^reason: is required/);
    const r = resume(a, { reason: 'fixed' });
    expect(r.next.aborted).toBe(false);
    expect(r.next.abortReason).toBeUndefined();
    expect(r.next.routes.balance).toEqual({ mode: 'legacy', weight: 0 });
    expect(resume(base({ paused: true })).next.paused).toBe(false);
  });

  it('promote skips the current plan step, --full sends all to v2, refused while aborted or with nothing to promote', () => {
    const withPlan = base({ paused: true, plan: { planId: 'p', step: 3, stepStartedAt: 't' } });
    const p = promote(withPlan);
    expect(p.next.paused).toBe(false);
    expect(p.next.plan!.detail).toEqual({ promotedStep: 3 });
    expect(Object.values(promote(base(), { full: true }).next.routes).every((r) => r.mode === 'v2' && r.weight === 100)).toBe(true);
    expect(errorOf(() => promote(base())).exitCode).toBe(2);
    expect(errorOf(() => promote(base({ aborted: true }), { full: true })).code).toBe('CUTOVER_ERR_ROLLOUT_ABORTED');
  });

  it('applyChange dispatches by action and rejects unknown ones', () => {
    expect(applyChange(base(), { action: 'pause' }).action).toBe('pause');
    expect(errorOf(() => applyChange(base(), { action: 'explode' } as never)).message).toMatch(/^action: /);
  });
});

describe('seeding and validation', () => {
  it('initialStateFromConfig takes every route and the default route, with a fresh epoch', () => {
    const cfg = validateConfig({
      upstreams: { legacy: 'http://127.0.0.1:1', v2: 'http://127.0.0.1:2' },
      routes: [{ name: 'balance', match: { method: 'GET', path: '/a/:id' }, mode: 'canary', weight: 2.5 }],
    });
    const a = initialStateFromConfig(cfg);
    const b = initialStateFromConfig(cfg);
    expect(a.routes).toEqual({ balance: { mode: 'canary', weight: 2.5 }, default: { mode: 'legacy', weight: 0 } });
    expect(a.paused).toBe(false);
    expect(a.aborted).toBe(false);
    expect(a.epoch).not.toBe(b.epoch);
  });

  it('validateStateDocument names the failing field', () => {
    const ok = base();
    expect(validateStateDocument(ok).routes).toEqual(ok.routes);
    const cases: Array<[unknown, string]> = [
      [{ ...ok, routes: { balance: { mode: 'canary', weight: 101 } } }, 'state.routes.balance.weight: must be between 0 and 100'],
      [{ ...ok, routes: { balance: { mode: 'canary', weight: 1.234 } } }, 'state.routes.balance.weight:'],
      [{ ...ok, routes: { balance: { mode: 'sideways', weight: 1 } } }, 'state.routes.balance.mode: must be one of'],
      [{ ...ok, paused: 'yes' }, 'state.paused:'],
      [{ ...ok, colour: 'red' }, 'state.colour: unknown field'],
      [{ routes: {}, aborted: false }, 'state.paused: is required'],
      [null, 'state'],
    ];
    for (const [doc, msg] of cases) {
      const e = errorOf(() => validateStateDocument(doc));
      expect(e.exitCode).toBe(2);
      expect(e.message.startsWith(msg)).toBe(true);
    }
  });

  it('validateChangeRequest names the field', () => {
    expect(validateChangeRequest({ action: 'set-weight', route: 'a', weight: 5 })).toEqual({ action: 'set-weight', route: 'a', weight: 5 });
    expect(errorOf(() => validateChangeRequest({ action: 'fly' })).message).toMatch(/^action: must be one of/);
    expect(errorOf(() => validateChangeRequest({ action: 'mode', route: 'a' })).message).toMatch(/^mode: is required/);
    expect(errorOf(() => validateChangeRequest({ action: 'pause', colour: 1 })).message).toMatch(/^colour: unknown field/);
  });

  it('checkReplacement keeps an aborted rollout from being re-ramped by a whole-document write', () => {
    const a = abort(base(), { reason: 'r' }).next;
    expect(errorOf(() => checkReplacement(a, { ...a, routes: { ...a.routes, balance: { mode: 'canary', weight: 1 } } }, undefined)).code).toBe(
      'CUTOVER_ERR_ROLLOUT_ABORTED',
    );
    expect(errorOf(() => checkReplacement(a, { ...a, aborted: false }, undefined)).message).toMatch(/^reason: is required/);
    expect(() => checkReplacement(a, { ...a, aborted: false }, 'fixed')).not.toThrow();
  });

  it('diffStates lists added routes and top-level fields', () => {
    expect(diffStates(base(), { ...base(), routes: { ...base().routes, extra: { mode: 'legacy', weight: 0 } } })).toEqual([
      { path: 'routes.extra', from: null, to: { mode: 'legacy', weight: 0 } },
    ]);
  });

  it('a newer version or a new epoch supersedes; a retired epoch does not', () => {
    const cur = base();
    expect(supersedes({ ...cur, version: 8 }, cur)).toBe(true);
    expect(supersedes({ ...cur, version: 7 }, cur)).toBe(false);
    expect(supersedes({ ...cur, version: 1, epoch: 'e2' }, cur)).toBe(true);
    expect(supersedes({ ...cur, version: 99, epoch: 'e0' }, cur, new Set(['e0']))).toBe(false);
  });
});
