import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import type { RolloutState } from '../../shared/state/types.js';
import { bucketOf, isV2 } from '../../proxy/bucket.js';
import { buildRouteTable, compileRouteSpecs, cookieValue, decide, isUnsafePath } from '../../proxy/route-table.js';

const config = parseConfigText(
  `
upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: canary
    weight: 10
    stickyBy: param:accountId
    target: { v2: { header: { x-api-key: [proj-a] }, param: { accountId: [T-1, T-2] }, cookie: { beta: ['yes'] } } }
  - name: tx
    match: { method: GET, path: /accounts/:accountId/transactions }
    mode: mirror
  - name: byheader
    match: { method: GET, path: /members }
    mode: canary
    weight: 50
    stickyBy: header:X-Caller
  - name: bycookie
    match: { method: GET, path: /wallets }
    mode: canary
    weight: 50
    stickyBy: cookie:sid
  - name: post
    match: { method: POST, path: /accounts/:accountId/transfers }
    mode: v2
  - name: files
    match: { method: GET, path: /files/* }
    mode: v2
`,
  'test',
  {},
);
const specs = compileRouteSpecs(config);
const table = buildRouteTable(specs);

function state(routes: RolloutState['routes'], version = 3): RolloutState {
  return { schemaVersion: 1, version, routes, paused: false, aborted: false, updatedBy: 't', updatedAt: new Date(0).toISOString() };
}

describe('route matching', () => {
  it('matches method and path pattern, first match wins', () => {
    expect(decide(table, 'GET', '/accounts/A-1/transactions?limit=5', {}).route.spec.name).toBe('tx');
    expect(decide(table, 'POST', '/accounts/A-1/transfers', {}).route.spec.name).toBe('post');
  });

  it('sends the rest to the default route in legacy mode', () => {
    for (const [m, u] of [
      ['GET', '/'],
      ['GET', '/accounts/A-1'],
      ['GET', '/accounts//balance'],
      ['GET', '/accounts/A-1/balance/'],
      ['DELETE', '/accounts/A-1/balance'],
      ['GET', '/accounts/A-1/balance/extra'],
    ]) {
      const d = decide(table, m, u, {});
      expect(d.route.spec.name, `${m} ${u}`).toBe('default');
      expect(d.upstream).toBe('legacy');
    }
  });

  it('takes the rest of the path with a trailing *', () => {
    expect(decide(table, 'GET', '/files/a/b/c', {}).route.spec.name).toBe('files');
  });

  it('refuses "." and ".." segments, plain or encoded, and encoded slashes', () => {
    for (const p of ['/accounts/../admin', '/accounts/%2e%2e/admin', '/accounts/%2E./x', '/a/./b', '/a/x%2Fy', '/a\\..\\b', '/a/%zz']) {
      expect(isUnsafePath(p), p).toBe(true);
    }
    for (const p of ['/accounts/A-1/balance', '/files/report.v2.json', '/a/%41', '/']) expect(isUnsafePath(p), p).toBe(false);
  });
});

describe('modes', () => {
  it('legacy, v2 and mirror send everything to one side', () => {
    const t = buildRouteTable(specs, state({ balance: { mode: 'legacy', weight: 100 }, tx: { mode: 'mirror', weight: 0 } }));
    expect(decide(t, 'GET', '/accounts/A-1/balance', {})).toMatchObject({ upstream: 'legacy', mirror: false });
    expect(decide(t, 'GET', '/accounts/A-1/transactions', {})).toMatchObject({ upstream: 'legacy', mirror: true });
    expect(decide(t, 'POST', '/accounts/A-1/transfers', {})).toMatchObject({ upstream: 'v2', mirror: false });
  });

  it('canary keeps each account on the side its bucket says', () => {
    for (let i = 0; i < 200; i++) {
      const id = `A-${i}`;
      const expected = isV2('balance', id, 10) ? 'v2' : 'legacy';
      expect(decide(table, 'GET', `/accounts/${id}/balance`, {}).upstream).toBe(expected);
    }
  });

  it('serves a key from V2 exactly when the weight covers its bucket (bucket 911: legacy at 9.11, V2 at 9.12)', () => {
    expect(bucketOf('balance', 'A-1')).toBe(911);
    const at = (weight: number) => decide(buildRouteTable(specs, state({ balance: { mode: 'canary', weight } })), 'GET', '/accounts/A-1/balance', {});
    expect(at(9.11).upstream).toBe('legacy');
    expect(at(9.12).upstream).toBe('v2');
    expect(isV2('balance', 'A-1', 9.11)).toBe(false);
    expect(isV2('balance', 'A-1', 9.12)).toBe(true);
  });

  it('decodes a percent-encoded sticky param before bucketing', () => {
    const d1 = decide(table, 'GET', '/accounts/A%201/balance', {});
    expect(d1.upstream).toBe(isV2('balance', 'A 1', 10) ? 'v2' : 'legacy');
  });

  it('the state overrides the config weight, and a new table does not change the old one', () => {
    const t100 = buildRouteTable(specs, state({ balance: { mode: 'canary', weight: 100 } }));
    expect(decide(t100, 'GET', '/accounts/A-5/balance', {}).upstream).toBe('v2');
    expect(table.routes[0].weight).toBe(10);
    expect(t100.version).toBe(3);
    expect(Object.isFrozen(t100.routes)).toBe(true);
  });

  it('sticky by header and cookie, missing key falls back to random and is flagged', () => {
    const a = decide(table, 'GET', '/members', { 'x-caller': 'c-1' });
    expect(a.upstream).toBe(isV2('byheader', 'c-1', 50) ? 'v2' : 'legacy');
    expect(a.missingKey).toBe(false);
    const b = decide(table, 'GET', '/wallets', { cookie: 'a=1; sid=s-9; z=2' });
    expect(b.upstream).toBe(isV2('bycookie', 's-9', 50) ? 'v2' : 'legacy');
    const sides = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const d = decide(table, 'GET', '/members', {});
      expect(d.missingKey).toBe(true);
      sides.add(d.upstream);
    }
    expect(sides.size).toBe(2);
  });
});

describe('targeting', () => {
  const zero = buildRouteTable(specs, state({ balance: { mode: 'canary', weight: 0 } }));
  it('sends named accounts, callers and cookies to V2 whatever the weight', () => {
    expect(decide(zero, 'GET', '/accounts/T-1/balance', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(zero, 'GET', '/accounts/Z-1/balance', { 'x-api-key': 'proj-a' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(zero, 'GET', '/accounts/Z-1/balance', { cookie: 'beta=yes' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(zero, 'GET', '/accounts/Z-1/balance', { 'x-api-key': 'proj-b' }).upstream).toBe('legacy');
  });

  it('does not override legacy mode (an abort wins)', () => {
    const aborted = buildRouteTable(specs, state({ balance: { mode: 'legacy', weight: 0 } }));
    expect(decide(aborted, 'GET', '/accounts/T-1/balance', {}).upstream).toBe('legacy');
  });

  it('ignores a client-sent x-cutover-upstream header', () => {
    for (let i = 0; i < 50; i++) {
      expect(decide(zero, 'GET', `/accounts/Z-${i}/balance`, { 'x-cutover-upstream': 'v2' }).upstream).toBe('legacy');
    }
  });
});

describe('cookieValue', () => {
  it('finds a cookie among others and unquotes it', () => {
    expect(cookieValue('a=1; sid="x y"; b=2', 'sid')).toBe('x y');
    expect(cookieValue('asid=1; sid=2', 'sid')).toBe('2');
    expect(cookieValue('a=1', 'sid')).toBeUndefined();
    expect(cookieValue(undefined, 'sid')).toBeUndefined();
  });
});
