/**
 * The documents that arrive over HTTP (PUT /admin/state, POST /admin/change): every field's
 * rule, refused naming the field and the rule, every problem of a document in one error, and a
 * valid document taken as it was sent.
 */
import { describe, expect, it } from 'vitest';
import { isCutoverError } from '../../shared/errors.js';
import { validateChangeRequest, validateStateDocument } from '../../shared/state/documents.js';

function refusal(fn: () => unknown): { field: string; message: string; status: number } {
  try {
    fn();
  } catch (err) {
    if (isCutoverError(err)) return err as unknown as { field: string; message: string; status: number };
    throw err;
  }
  throw new Error('expected a refusal');
}

const good = () => ({
  schemaVersion: 1,
  version: 4,
  epoch: 'e1',
  routes: { balance: { mode: 'canary', weight: 12.5 }, 'tx.v-2_a': { mode: 'legacy', weight: 0 } },
  paused: false,
  aborted: false,
  updatedBy: 'ann',
  updatedAt: '2026-12-03T00:00:00.000Z',
  plan: { planId: 'p1', step: 2, stepStartedAt: '2026-12-03T00:00:00.000Z', detail: { a: 1 } },
  waivers: [{ id: 'w1', route: 'balance', path: '/x', kind: 'value', reason: 'known', author: 'qa', createdAt: 'c', expiresAt: 'e' }],
});

describe('validateStateDocument', () => {
  it('takes a valid document as it was sent, and fills the defaults', () => {
    expect(validateStateDocument(good())).toEqual(good());
    const bare = validateStateDocument({ routes: {}, paused: true, aborted: false });
    expect(bare).toEqual({ schemaVersion: 1, routes: {}, paused: true, aborted: false, updatedBy: '', updatedAt: '' });
  });

  it('drops an abort reason from a document that is not aborted, and keeps it on one that is', () => {
    expect(validateStateDocument({ ...good(), abortReason: 'old' })).not.toHaveProperty('abortReason');
    expect(validateStateDocument({ ...good(), aborted: true, abortReason: 'V2 wrong' }).abortReason).toBe('V2 wrong');
  });

  it('refuses each bad field, naming it under the field the document came in', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ schemaVersion: 2 }, /^state\.schemaVersion: must be 1/],
      [{ routes: { 'bad name': { mode: 'legacy', weight: 0 } } }, /^state\.routes\.bad name: /],
      [{ routes: { balance: { mode: 'bogus', weight: 0 } } }, /^state\.routes\.balance\.mode: must be one of legacy, mirror, canary, v2/],
      [{ routes: { balance: { mode: 'canary', weight: 500 } } }, /^state\.routes\.balance\.weight: must be between 0 and 100/],
      [{ routes: { balance: { mode: 'canary', weight: 1.005 } } }, /^state\.routes\.balance\.weight: .*two decimals/],
      [{ routes: { balance: { mode: 'canary', weight: '5' } } }, /^state\.routes\.balance\.weight: must be a number/],
      [{ routes: { balance: { mode: 'canary', weight: 5, extra: 1 } } }, /^state\.routes\.balance\.extra: unknown field/],
      [{ paused: 'no' }, /^state\.paused: must be true or false/],
      [{ aborted: 1 }, /^state\.aborted: must be true or false/],
      [{ aborted: true, abortReason: 'x'.repeat(4097) }, /^state\.abortReason: must be at most 4096 characters/],
      [{ version: -1 }, /^state\.version: /],
      [{ epoch: '' }, /^state\.epoch: /],
      [{ plan: { planId: '', step: 0, stepStartedAt: 't' } }, /^state\.plan\.planId: /],
      [{ plan: { planId: 'p', step: 1.5, stepStartedAt: 't' } }, /^state\.plan\.step: /],
      [{ waivers: [{ ...good().waivers[0], reason: 'y'.repeat(4097) }] }, /^state\.waivers\[0\]\.reason: must be at most 4096 characters/],
      [{ waivers: [{ ...good().waivers[0], author: '' }] }, /^state\.waivers\[0\]\.author: /],
      [{ bogus: true }, /^state\.bogus: unknown field/],
    ];
    for (const [over, re] of cases) {
      const e = refusal(() => validateStateDocument({ ...good(), ...over }));
      expect(`${e.field}: ${e.message.replace(/^.*?: /, '')}`, JSON.stringify(over).slice(0, 80)).toMatch(re);
      expect(e.status).toBe(400);
    }
    expect(refusal(() => validateStateDocument({ ...good(), paused: 1 }, 'body.state')).field).toBe('body.state.paused');
  });

  it('names the first problem as the field and lists every problem in one message', () => {
    const e = refusal(() => validateStateDocument({ ...good(), paused: 'no', aborted: 'yes' }));
    expect(e.field).toBe('state.paused');
    expect(e.message).toMatch(/^state\.paused: must be true or false \(expected boolean, got string "no"\); and state\.aborted: must be true or false \(expected boolean, got string "yes"\)$/);
  });

  it('calls a document that is not an object a bad body', () => {
    expect(refusal(() => validateStateDocument('text', 'state')).field).toBe('state');
    expect(refusal(() => validateChangeRequest([])).field).toBe('body');
  });
});

describe('validateChangeRequest', () => {
  it('takes each action with its fields', () => {
    for (const body of [
      { action: 'set-weight', route: 'a', weight: 5, maxStep: 10, force: true },
      { action: 'set-weight', all: true, weight: 5 },
      { action: 'set-weight', routes: ['a', 'b'], weight: 5 },
      { action: 'set-weight', upstream: 'statements-v2', weight: 5 },
      { action: 'mode', route: 'a', mode: 'mirror' },
      { action: 'mode', upstream: 'statements-v2', mode: 'legacy' },
      { action: 'pause' },
      { action: 'resume' },
      { action: 'promote', full: true, upstream: 'x' },
      { action: 'abort', route: 'a' },
      { action: 'abort', upstream: 'x' },
    ]) {
      expect(validateChangeRequest(body)).toEqual(body);
    }
  });

  it('refuses each bad field naming it', () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ action: 'fly' }, 'action', /must be one of set-weight, mode, pause, resume, promote, abort/],
      [{}, 'action', /must be one of/],
      [{ action: 'set-weight', route: 'a', weight: '10' }, 'weight', /must be a number between 0 and 100/],
      [{ action: 'set-weight', route: 'a' }, 'weight', /is required/],
      [{ action: 'set-weight', route: '', weight: 1 }, 'route', /./],
      [{ action: 'set-weight', routes: [], weight: 1 }, 'routes', /must name at least one route/],
      [{ action: 'set-weight', routes: [''], weight: 1 }, 'routes[0]', /must name a route/],
      [{ action: 'set-weight', routes: 'a', weight: 1 }, 'routes', /must be a list of route names/],
      [{ action: 'set-weight', routes: Array.from({ length: 1001 }, (_, i) => `r${i}`), weight: 1 }, 'routes', /must name at most 1000 routes/],
      [{ action: 'set-weight', route: 'a', weight: 1, maxStep: 'x' }, 'maxStep', /must be a number/],
      [{ action: 'set-weight', route: 'a', weight: 1, upstream: '' }, 'upstream', /must name a V2 upstream/],
      [{ action: 'mode', route: 'a' }, 'mode', /is required/],
      [{ action: 'mode', route: 'a', mode: 'v2', upstream: 7 }, 'upstream', /must be a string naming a V2 upstream/],
      [{ action: 'pause', route: 'a' }, 'route', /unknown field/],
      [{ action: 'promote', full: 'yes' }, 'full', /./],
      [{ action: 'abort', route: '' }, 'route', /./],
    ];
    for (const [body, field, re] of cases) {
      const e = refusal(() => validateChangeRequest(body));
      expect(e.field, JSON.stringify(body).slice(0, 80)).toBe(field);
      expect(e.message, JSON.stringify(body).slice(0, 80)).toMatch(re);
    }
  });
});
