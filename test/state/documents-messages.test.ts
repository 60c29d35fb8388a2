/**
 * The whole refusal of each bad state document and change request, as the admin API returns it:
 * the field, the rule and the value, and every problem of a document in one message. The
 * product's rule is that bad input gets an error a person can act on, so the text is the
 * behaviour and is asserted whole. Pure function calls, no servers.
 */
import { describe, expect, it } from 'vitest';
import { isCutoverError } from '../../shared/errors.js';
import { validateChangeRequest, validateStateDocument } from '../../shared/state/documents.js';

interface Refusal {
  code: string;
  field: string;
  message: string;
  status: number;
}

function refusal(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (err) {
    if (isCutoverError(err)) return err as unknown as Refusal;
    throw err;
  }
  throw new Error('expected a refusal');
}

const waiver = { id: 'w1', route: 'balance', path: '/x', kind: 'value', reason: 'known', author: 'qa', createdAt: 'c', expiresAt: 'e' };

const good = () => ({
  schemaVersion: 1,
  version: 4,
  routes: { balance: { mode: 'canary', weight: 12.5 } },
  paused: false,
  aborted: false,
  plan: { planId: 'p1', step: 2, stepStartedAt: 't' },
  waivers: [{ ...waiver }],
});

/** [what is changed in a good document, the whole message]; the field is the message up to ": ". */
const STATE_CASES: Array<[Record<string, unknown>, string]> = [
  [{ schemaVersion: 2 }, 'state.schemaVersion: must be 1 (got 2)'],
  [{ schemaVersion: '1' }, 'state.schemaVersion: must be 1 (got "1")'],
  [{ routes: { 'bad name': { mode: 'legacy', weight: 0 } } }, 'state.routes.bad name: route names are letters, digits, _ . or - (got "bad name")'],
  [{ routes: { 'a/b': { mode: 'legacy', weight: 0 } } }, 'state.routes.a/b: route names are letters, digits, _ . or - (got "a/b")'],
  [{ routes: { balance: { mode: 'bogus', weight: 0 } } }, 'state.routes.balance.mode: must be one of legacy, mirror, canary, v2 (got "bogus")'],
  [{ routes: { balance: { mode: 'canary', weight: 500 } } }, 'state.routes.balance.weight: must be between 0 and 100 (got 500)'],
  [{ routes: { balance: { mode: 'canary', weight: -1 } } }, 'state.routes.balance.weight: must be between 0 and 100 (got -1)'],
  [{ routes: { balance: { mode: 'canary', weight: 1.005 } } }, 'state.routes.balance.weight: 1.005 has more than two decimals (weights go in steps of 0.01)'],
  [{ routes: { balance: { mode: 'canary', weight: '5' } } }, 'state.routes.balance.weight: must be a number (expected number, got string "5")'],
  [{ routes: { balance: { mode: 'canary' } } }, 'state.routes.balance.weight: is required'],
  [{ routes: { balance: { mode: 'canary', weight: 5, extra: 1 } } }, 'state.routes.balance.extra: unknown field'],
  [{ paused: 'no' }, 'state.paused: must be true or false (expected boolean, got string "no")'],
  [{ aborted: 1 }, 'state.aborted: must be true or false (expected boolean, got number 1)'],
  [{ aborted: true, abortReason: 'x'.repeat(4097) }, 'state.abortReason: must be at most 4096 characters'],
  [{ waivers: [{ ...waiver, reason: 'y'.repeat(4097) }] }, 'state.waivers[0].reason: must be at most 4096 characters'],
  [{ waivers: [{ ...waiver, z: 1 }] }, 'state.waivers[0].z: unknown field'],
  [{ plan: { planId: 'p', step: 1, stepStartedAt: 't', x: 1 } }, 'state.plan.x: unknown field'],
  [{ bogus: true }, 'state.bogus: unknown field'],
];

describe('validateStateDocument: the whole refusal', () => {
  it('names the field, the rule and the value of each bad field', () => {
    for (const [over, message] of STATE_CASES) {
      const e = refusal(() => validateStateDocument({ ...good(), ...over }));
      expect(e.message, JSON.stringify(over).slice(0, 80)).toBe(message);
      expect(e.field).toBe(message.slice(0, message.indexOf(': ')));
      expect(e.code).toBe('CUTOVER_ERR_STATE_INPUT');
      expect(e.status).toBe(400);
    }
  });

  it('a route name is refused for any character outside letters, digits, _ . and -, and taken with all of them', () => {
    for (const name of ['a b', 'a:b', 'ä', '', 'a\nb']) {
      expect(refusal(() => validateStateDocument({ ...good(), routes: { [name]: { mode: 'legacy', weight: 0 } } })).message, name).toBe(
        `state.routes.${name}: route names are letters, digits, _ . or - (got ${JSON.stringify(name)})`,
      );
    }
    const routes = { 'Az09_.-': { mode: 'legacy', weight: 0 } };
    expect(validateStateDocument({ ...good(), routes }).routes).toEqual(routes);
  });

  it('every bad route name and every other problem in one message, first one as the field', () => {
    const e = refusal(() => validateStateDocument({ ...good(), routes: { 'x y': { mode: 'legacy', weight: 0 }, 'p q': { mode: 'v2', weight: 1 } }, paused: 'no' }));
    expect(e.field).toBe('state.routes.x y');
    expect(e.message).toBe(
      'state.routes.x y: route names are letters, digits, _ . or - (got "x y"); and state.routes.p q: route names are letters, digits, _ . or - (got "p q"); state.paused: must be true or false (expected boolean, got string "no")',
    );
  });

  it('every unknown field of one object, each on its own', () => {
    const e = refusal(() => validateStateDocument({ ...good(), bogus: 1, other: 2 }));
    expect(e.field).toBe('state.bogus');
    expect(e.message).toBe('state.bogus: unknown field; and state.other: unknown field');
  });

  it('the limits on text: 4096 characters taken, 4097 refused', () => {
    expect(validateStateDocument({ ...good(), aborted: true, abortReason: 'x'.repeat(4096) }).abortReason).toHaveLength(4096);
    expect(validateStateDocument({ ...good(), waivers: [{ ...waiver, reason: 'y'.repeat(4096) }] }).waivers![0].reason).toHaveLength(4096);
  });

  it('a document that is not an object is refused under the field it came in', () => {
    const e = refusal(() => validateStateDocument('text'));
    expect(e.field).toBe('state');
    expect(e.message).toBe('state: Invalid input: expected object, received string (expected object, got string "text")');
    expect(refusal(() => validateStateDocument(5, 'body.state')).message).toBe('body.state: Invalid input: expected object, received number (expected object, got number 5)');
  });

  it('schemaVersion is 1 when left out, and only 1 is taken', () => {
    const { schemaVersion: _, ...rest } = good();
    expect(validateStateDocument(rest).schemaVersion).toBe(1);
    expect(validateStateDocument({ ...good(), schemaVersion: 1 }).schemaVersion).toBe(1);
  });

  it('a weight is kept as its hundredths', () => {
    expect(validateStateDocument({ ...good(), routes: { balance: { mode: 'canary', weight: 0.1 + 0.2 } } }).routes.balance.weight).toBeCloseTo(0.3, 12);
    for (const weight of [0, 0.01, 99.99, 100]) {
      expect(validateStateDocument({ ...good(), routes: { balance: { mode: 'canary', weight } } }).routes.balance.weight).toBe(weight);
    }
  });
});

/** [body, the whole message]; the field is the message up to ": ". */
const CHANGE_CASES: Array<[Record<string, unknown>, string]> = [
  [{ action: 'fly' }, 'action: must be one of set-weight, mode, pause, resume, promote, abort (got "fly")'],
  [{ action: 5 }, 'action: must be one of set-weight, mode, pause, resume, promote, abort (got 5)'],
  [{}, 'action: must be one of set-weight, mode, pause, resume, promote, abort'],
  [{ action: 'set-weight', route: 'a', weight: '10' }, 'weight: must be a number between 0 and 100 (expected number, got string "10")'],
  [{ action: 'set-weight', route: 'a' }, 'weight: is required'],
  [{ action: 'set-weight', routes: [], weight: 1 }, 'routes: must name at least one route'],
  [{ action: 'set-weight', routes: [''], weight: 1 }, 'routes[0]: must name a route (got "")'],
  [{ action: 'set-weight', routes: 'a', weight: 1 }, 'routes: must be a list of route names (expected array, got string "a")'],
  [{ action: 'set-weight', routes: Array.from({ length: 1001 }, (_, i) => `r${i}`), weight: 1 }, 'routes: must name at most 1000 routes'],
  [{ action: 'set-weight', route: 'a', weight: 1, maxStep: 'x' }, 'maxStep: must be a number (expected number, got string "x")'],
  [{ action: 'set-weight', route: 'a', weight: 1, upstream: '' }, 'upstream: must name a V2 upstream (got "")'],
  [{ action: 'set-weight', route: 'a', weight: 1, upstream: 7 }, 'upstream: must be a string naming a V2 upstream (expected string, got number 7)'],
  [{ action: 'set-weight', route: 'a', weight: 1, extra: 1 }, 'extra: unknown field'],
  [{ action: 'mode', route: 'a' }, 'mode: is required'],
  [{ action: 'mode', route: 'a', mode: 5 }, 'mode: must be one of legacy, mirror, canary, v2 (expected string, got number 5)'],
  [{ action: 'mode', route: 5, mode: 'v2' }, 'route: must be a string naming a route (expected string, got number 5)'],
  [{ action: 'mode', route: 'a', mode: 'v2', upstream: '' }, 'upstream: must name a V2 upstream (got "")'],
  [{ action: 'pause', route: 'a' }, 'route: unknown field'],
  [{ action: 'resume', x: 1 }, 'x: unknown field'],
  [{ action: 'promote', upstream: '' }, 'upstream: must name a V2 upstream (got "")'],
  [{ action: 'abort', upstream: 3 }, 'upstream: must be a string naming a V2 upstream (expected string, got number 3)'],
];

describe('validateChangeRequest: the whole refusal', () => {
  it('names the field, the rule and the value of each bad field', () => {
    for (const [body, message] of CHANGE_CASES) {
      const e = refusal(() => validateChangeRequest(body));
      expect(e.message, JSON.stringify(body).slice(0, 80)).toBe(message);
      expect(e.field).toBe(message.slice(0, message.indexOf(': ')));
      expect(e.status).toBe(400);
    }
  });

  it('every problem of a request in one message', () => {
    const e = refusal(() => validateChangeRequest({ action: 'set-weight', routes: ['', 'b', ''], weight: 'x' }));
    expect(e.field).toBe('routes[0]');
    expect(e.message).toBe('routes[0]: must name a route (got ""); and routes[2]: must name a route (got ""); weight: must be a number between 0 and 100 (expected number, got string "x")');
  });

  it('a body that is not an object is a bad body', () => {
    const e = refusal(() => validateChangeRequest([]));
    expect(e.field).toBe('body');
    expect(e.message).toBe('body: must be one of set-weight, mode, pause, resume, promote, abort (expected object, got array)');
  });

  it('takes 1000 routes in one set-weight, and a mode request naming an upstream instead of a route', () => {
    const routes = Array.from({ length: 1000 }, (_, i) => `r${i}`);
    expect(validateChangeRequest({ action: 'set-weight', routes, weight: 1 })).toEqual({ action: 'set-weight', routes, weight: 1 });
    expect(validateChangeRequest({ action: 'mode', mode: 'v2', upstream: 'u' })).toEqual({ action: 'mode', mode: 'v2', upstream: 'u' });
    expect(validateChangeRequest({ action: 'promote', upstream: 'u' })).toEqual({ action: 'promote', upstream: 'u' });
  });
});

describe('the field of a refusal comes from the path, not from the message text', () => {
  it('a key holding ": " is named whole', () => {
    const unknown = refusal(() => validateStateDocument({ ...good(), 'a: b': 1 }));
    expect(unknown.field).toBe('state.a: b');
    expect(unknown.message).toBe('state.a: b: unknown field');
    const route = refusal(() => validateStateDocument({ ...good(), routes: { 'x: y': { mode: 'legacy', weight: 0 } } }));
    expect(route.field).toBe('state.routes.x: y');
    expect(route.message).toBe('state.routes.x: y: route names are letters, digits, _ . or - (got "x: y")');
    const change = refusal(() => validateChangeRequest({ action: 'pause', 'p: q': 1, r: 2 }));
    expect(change.field).toBe('p: q');
    expect(change.message).toBe('p: q: unknown field; and r: unknown field');
  });
});
