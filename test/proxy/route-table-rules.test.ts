/**
 * The route table's rules one at a time, as pure functions (no servers): how a path pattern
 * matches (literals, params, a trailing `*`, the edges of each segment), which sticky key a
 * request has (param, header, cookie, none; empty or absent), targeting, the weight's two ends,
 * which side a state gives a route, the timeouts and upstreams each side gets, the unsafe-path
 * check and the Cookie header reader. A random bucket is pinned with a stubbed Math.random, so
 * no assertion depends on chance.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfigText, type CutoverConfig } from '../../shared/config.js';
import type { RolloutState } from '../../shared/state/types.js';
import { isV2 } from '../../proxy/bucket.js';
import { buildRouteTable, compileRouteSpecs, cookieValue, decide, isUnsafePath, matchRoute, type RouteTable } from '../../proxy/route-table.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const UPSTREAMS = 'upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }\n';

function configOf(yaml: string): Readonly<CutoverConfig> {
  return parseConfigText(UPSTREAMS + yaml, 'test', {});
}

function tableOf(yaml: string, state?: RolloutState): RouteTable {
  return buildRouteTable(compileRouteSpecs(configOf(yaml)), state);
}

function state(routes: RolloutState['routes'], version = 7): RolloutState {
  return { schemaVersion: 1, version, routes, paused: false, aborted: false, updatedBy: 't', updatedAt: new Date(0).toISOString() };
}

/** The route name a request matches (`default` when none). */
function routeOf(table: RouteTable, method: string, url: string): string {
  return decide(table, method, url, {}).route.spec.name;
}

/** Keys that land on both sides at 50 %, so a wrong key shows on at least one of them. */
const KEYS = Array.from({ length: 40 }, (_, i) => `k-${i}`);

/** Pins Math.random so a request without a sticky key gets bucket `bucket`. */
function randomBucketIs(bucket: number): void {
  vi.spyOn(Math, 'random').mockReturnValue(bucket / 10_000);
}

describe('path patterns', () => {
  // built in each test, so that a mutant in the table's compiler fails a test and not the file's collection
  let t: RouteTable;
  beforeEach(() => {
    t = tableOf(`
routes:
  - { name: members, match: { method: GET, path: /members }, mode: v2 }
  - { name: member, match: { method: GET, path: /members/:id }, mode: v2 }
  - { name: files, match: { method: GET, path: /files/* }, mode: v2 }
  - { name: star-mid, match: { method: GET, path: /a/*/b }, mode: v2 }
  - { name: slash, match: { method: GET, path: /dir/ }, mode: v2 }
  - { name: colon, match: { method: GET, path: '/c/:' }, mode: v2 }
  - { name: root, match: { method: GET, path: / }, mode: v2 }
`);
  });

  it('a literal segment matches only the same text of the same length', () => {
    expect(routeOf(t, 'GET', '/members')).toBe('members');
    for (const u of ['/member', '/membersX', '/mEmbers', '/Members', '/xmembers', '/membe']) expect(routeOf(t, 'GET', u), u).toBe('default');
  });

  it('a :param matches one non-empty segment, and not an empty one or two', () => {
    expect(routeOf(t, 'GET', '/members/42')).toBe('member');
    expect(routeOf(t, 'GET', '/members/')).toBe('default');
    expect(routeOf(t, 'GET', '/members/4/2')).toBe('default');
  });

  it('a path shorter or longer than the pattern does not match', () => {
    expect(routeOf(t, 'GET', '/members/42/x')).toBe('default');
    expect(routeOf(t, 'GET', '/members/42/')).toBe('default');
    expect(routeOf(t, 'GET', '/dir')).toBe('default');
    expect(routeOf(t, 'GET', '/dir/x')).toBe('default');
  });

  it('a pattern ending in / matches the path with the slash (an empty last segment), not without it', () => {
    expect(routeOf(t, 'GET', '/dir/')).toBe('slash');
    expect(routeOf(t, 'GET', '/dir/?q=1')).toBe('slash');
  });

  it('the root pattern matches "/" only', () => {
    expect(routeOf(t, 'GET', '/')).toBe('root');
    expect(routeOf(t, 'GET', '/?x=1')).toBe('root');
    expect(routeOf(t, 'GET', '/x')).toBe('default');
  });

  it('a trailing * takes the rest of the path, empty or with slashes, but needs the slash before it', () => {
    expect(routeOf(t, 'GET', '/files/a')).toBe('files');
    expect(routeOf(t, 'GET', '/files/a/b/c')).toBe('files');
    expect(routeOf(t, 'GET', '/files/')).toBe('files');
    expect(routeOf(t, 'GET', '/files')).toBe('default');
    expect(routeOf(t, 'GET', '/filesx/a')).toBe('default');
  });

  it('a * before the last segment is a literal "*"', () => {
    expect(routeOf(t, 'GET', '/a/*/b')).toBe('star-mid');
    expect(routeOf(t, 'GET', '/a/x/b')).toBe('default');
  });

  it('a lone ":" is a literal segment, not a param', () => {
    expect(routeOf(t, 'GET', '/c/:')).toBe('colon');
    expect(routeOf(t, 'GET', '/c/x')).toBe('default');
  });

  it('the query string is not part of the path, even when it holds slashes', () => {
    expect(routeOf(t, 'GET', '/members?next=/members/1')).toBe('members');
    expect(routeOf(t, 'GET', '/members/42?next=/a/b')).toBe('member');
    expect(routeOf(t, 'GET', '/files?x=/y')).toBe('default');
    expect(routeOf(t, 'GET', '/dir?x=/')).toBe('default');
  });

  it('the method must match exactly', () => {
    expect(routeOf(t, 'POST', '/members')).toBe('default');
    expect(routeOf(t, 'get', '/members')).toBe('default');
  });

  it('matchRoute reads the path only up to the end it is given', () => {
    expect(matchRoute(t, 'GET', '/members/42', 8).spec.name).toBe('members');
    expect(matchRoute(t, 'GET', '/members/42', 11).spec.name).toBe('member');
  });

  it('a path that ends before a param or a * segment does not match', () => {
    const only = tableOf(`
routes:
  - { name: param, match: { method: GET, path: /x/:id }, mode: v2 }
  - { name: rest, match: { method: GET, path: /y/* }, mode: v2 }
`);
    expect(routeOf(only, 'GET', '/x/1')).toBe('param');
    expect(routeOf(only, 'GET', '/x')).toBe('default');
    expect(routeOf(only, 'GET', '/x?id=1')).toBe('default');
    expect(routeOf(only, 'GET', '/y')).toBe('default');
    expect(routeOf(only, 'GET', '/y?a=/b')).toBe('default');
  });

  it('a param before a trailing * reads its own segment only', () => {
    for (const pattern of ['/:id/*', '/:id/b/*', '/a/:id/*', '/a/:id/b/c/*']) {
      const t2 = tableOf(`
routes:
  - { name: r, match: { method: GET, path: '${pattern}' }, mode: canary, weight: 50, stickyBy: param:id }
`);
      for (const k of KEYS) {
        const url = pattern.replace(':id', k).replace('*', 'rest/of/it');
        expect(routeOf(t2, 'GET', url), url).toBe('r');
        expect(decide(t2, 'GET', url, {}).upstream, url).toBe(isV2('r', k, 50) ? 'v2' : 'legacy');
      }
    }
  });

  it('the first route that matches wins, in config order', () => {
    const two = tableOf(`
routes:
  - { name: first, match: { method: GET, path: /x/:id }, mode: v2 }
  - { name: second, match: { method: GET, path: /x/:id }, mode: legacy }
`);
    expect(routeOf(two, 'GET', '/x/1')).toBe('first');
  });

  it('a pattern of more than 32 segments matches, and its params read the right segment', () => {
    const lits = Array.from({ length: 39 }, (_, i) => `s${i}`);
    const t40 = tableOf(`
routes:
  - name: deep
    match: { method: GET, path: /${lits.join('/')}/:key }
    mode: canary
    weight: 50
    stickyBy: param:key
`);
    const prefix = `/${lits.join('/')}/`;
    expect(routeOf(t40, 'GET', `${prefix}k`)).toBe('deep');
    expect(routeOf(t40, 'GET', `/${lits.slice(0, 38).join('/')}/x/k`)).toBe('default');
    for (const k of KEYS) {
      const d = decide(t40, 'GET', prefix + k, {});
      expect(d.upstream, k).toBe(isV2('deep', k, 50) ? 'v2' : 'legacy');
      expect(d.missingKey).toBe(false);
    }
  });
});

describe('sticky keys', () => {
  // built in each test, so that a mutant in the table's compiler fails a test and not the file's collection
  let t: RouteTable;
  beforeEach(() => {
    t = tableOf(`
routes:
  - { name: p, match: { method: GET, path: /p/:a/:b/x }, mode: canary, weight: 50, stickyBy: param:b }
  - { name: h, match: { method: GET, path: /h }, mode: canary, weight: 50, stickyBy: header:X-Caller }
  - { name: c, match: { method: GET, path: /c }, mode: canary, weight: 50, stickyBy: cookie:Sid }
  - { name: n, match: { method: GET, path: /n }, mode: canary, weight: 50, stickyBy: none }
`);
  });
  const side = (route: string, key: string) => (isV2(route, key, 50) ? 'v2' : 'legacy');

  it('param: the named segment, not another one, decides', () => {
    for (const k of KEYS) {
      const d = decide(t, 'GET', `/p/same/${k}/x`, {});
      expect(d.upstream, k).toBe(side('p', k));
      expect(d).toMatchObject({ reason: 'weight', mirror: false, missingKey: false });
    }
  });

  it('param: a percent-encoded key is decoded; one that does not decode is used as sent', () => {
    for (const k of KEYS) expect(decide(t, 'GET', `/p/a/${k.replace('-', '%2D')}/x`, {}).upstream, k).toBe(side('p', k));
    for (const k of KEYS) expect(decide(t, 'GET', `/p/a/${k}%zz/x`, {}).upstream, k).toBe(side('p', `${k}%zz`));
  });

  it('header: the name is matched in lower case (Node lower-cases request headers), and the first of a repeated header decides', () => {
    for (const k of KEYS) {
      expect(decide(t, 'GET', '/h', { 'x-caller': k }).upstream, k).toBe(side('h', k));
      expect(decide(t, 'GET', '/h', { 'x-caller': [k, 'other'] }).upstream, k).toBe(side('h', k));
      expect(decide(t, 'GET', '/h', { 'x-caller': k }).missingKey).toBe(false);
    }
  });

  it('cookie: the name keeps its case', () => {
    for (const k of KEYS) {
      expect(decide(t, 'GET', '/c', { cookie: `a=1; Sid=${k}` }).upstream, k).toBe(side('c', k));
      expect(decide(t, 'GET', '/c', { cookie: [`Sid=${k}`, 'x=1'] }).upstream, k).toBe(side('c', k));
    }
    randomBucketIs(0);
    expect(decide(t, 'GET', '/c', { cookie: 'sid=k-1' })).toMatchObject({ upstream: 'v2', missingKey: true });
  });

  it('an absent or empty header or cookie is a missing key: bucketed at random and flagged', () => {
    for (const [url, headers] of [
      ['/h', {}],
      ['/h', { 'x-caller': '' }],
      ['/h', { 'x-caller': [] as string[] }],
      ['/c', {}],
      ['/c', { cookie: 'Sid=' }],
      ['/c', { cookie: 'other=1' }],
    ] as const) {
      vi.restoreAllMocks();
      randomBucketIs(0);
      expect(decide(t, 'GET', url, headers), `${url} ${JSON.stringify(headers)} low`).toMatchObject({ upstream: 'v2', missingKey: true, reason: 'weight' });
      vi.restoreAllMocks();
      randomBucketIs(9999);
      expect(decide(t, 'GET', url, headers), `${url} ${JSON.stringify(headers)} high`).toMatchObject({ upstream: 'legacy', missingKey: true, reason: 'weight' });
    }
  });

  it('a random bucket goes to V2 below the weight and to legacy from it on', () => {
    randomBucketIs(4999);
    expect(decide(t, 'GET', '/n', {}).upstream).toBe('v2');
    vi.restoreAllMocks();
    randomBucketIs(5000);
    expect(decide(t, 'GET', '/n', {}).upstream).toBe('legacy');
  });

  it('stickyBy none: every request is bucketed at random, and none is flagged as missing its key', () => {
    randomBucketIs(0);
    expect(decide(t, 'GET', '/n', { 'x-caller': 'k-1', cookie: 'Sid=k-1' })).toMatchObject({ upstream: 'v2', missingKey: false, reason: 'weight' });
    vi.restoreAllMocks();
    randomBucketIs(9999);
    expect(decide(t, 'GET', '/n', {})).toMatchObject({ upstream: 'legacy', missingKey: false });
  });

  it('compiles each kind of stickyBy to its kind, name and segment', () => {
    const specs = compileRouteSpecs(configOf(`
routes:
  - { name: p, match: { method: GET, path: /p/:a/:b/x }, stickyBy: param:b }
  - { name: h, match: { method: GET, path: /h }, stickyBy: header:X-Caller }
  - { name: c, match: { method: GET, path: /c }, stickyBy: cookie:Sid }
  - { name: n, match: { method: GET, path: /n } }
defaultRoute: { stickyBy: header:X-Team }
`));
    expect(specs.routes.map((r) => r.sticky)).toEqual([
      { kind: 'param', name: 'b', segment: 2 },
      { kind: 'header', name: 'x-caller', segment: -1 },
      { kind: 'cookie', name: 'Sid', segment: -1 },
      { kind: 'none', name: '', segment: -1 },
    ]);
    expect(specs.defaultRoute.sticky).toEqual({ kind: 'header', name: 'x-team', segment: -1 });
  });

  it('a config built without validation: a param the path lacks is a missing key, and a default route stuck by param is not sticky', () => {
    const base = configOf(`
routes:
  - { name: p, match: { method: GET, path: /p/:a }, mode: canary, weight: 50, stickyBy: param:a }
defaultRoute: { mode: canary, weight: 50 }
`);
    const loose: CutoverConfig = {
      ...base,
      routes: [{ ...base.routes[0], stickyBy: 'param:zz' }],
      defaultRoute: { ...base.defaultRoute, stickyBy: 'param:a' },
    };
    const specs = compileRouteSpecs(loose);
    expect(specs.routes[0].sticky).toEqual({ kind: 'param', name: 'zz', segment: -1 });
    expect(specs.defaultRoute.sticky).toEqual({ kind: 'none', name: '', segment: -1 });
    const lt = buildRouteTable(specs);
    randomBucketIs(0);
    expect(decide(lt, 'GET', '/p/k-1', {})).toMatchObject({ upstream: 'v2', missingKey: true });
    expect(decide(lt, 'GET', '/other', {})).toMatchObject({ upstream: 'v2', missingKey: false });
    vi.restoreAllMocks();
    randomBucketIs(9999);
    expect(decide(lt, 'GET', '/p/k-1', {})).toMatchObject({ upstream: 'legacy', missingKey: true });
  });
});

describe('weights, modes and the state', () => {
  const yaml = `
routes:
  - { name: r, match: { method: GET, path: /r }, mode: canary, weight: 0, stickyBy: header:x-k }
  - { name: s, match: { method: GET, path: /s }, mode: canary, weight: 100, stickyBy: header:x-k }
  - { name: m, match: { method: GET, path: /m }, mode: mirror }
  - { name: v, match: { method: GET, path: /v }, mode: v2 }
  - { name: l, match: { method: GET, path: /l }, mode: legacy, weight: 30 }
`;

  it('canary at 0 sends every request to legacy and at 100 to V2, without needing a key', () => {
    const t = tableOf(yaml);
    randomBucketIs(0);
    expect(decide(t, 'GET', '/r', {})).toEqual({ route: t.routes[0], upstream: 'legacy', mirror: false, reason: 'weight', missingKey: false });
    for (const k of KEYS) expect(decide(t, 'GET', '/r', { 'x-k': k }).upstream).toBe('legacy');
    vi.restoreAllMocks();
    randomBucketIs(9999);
    expect(decide(t, 'GET', '/s', {})).toEqual({ route: t.routes[1], upstream: 'v2', mirror: false, reason: 'weight', missingKey: false });
    for (const k of KEYS) expect(decide(t, 'GET', '/s', { 'x-k': k }).upstream).toBe('v2');
  });

  it('canary at 0.01 sends only bucket 0 to V2, and at 99.99 all but bucket 9999', () => {
    const low = tableOf(yaml, state({ r: { mode: 'canary', weight: 0.01 } }));
    randomBucketIs(0);
    expect(decide(low, 'GET', '/r', {})).toMatchObject({ upstream: 'v2', missingKey: true });
    vi.restoreAllMocks();
    randomBucketIs(1);
    expect(decide(low, 'GET', '/r', {}).upstream).toBe('legacy');
    const high = tableOf(yaml, state({ s: { mode: 'canary', weight: 99.99 } }));
    vi.restoreAllMocks();
    randomBucketIs(9998);
    expect(decide(high, 'GET', '/s', {}).upstream).toBe('v2');
    vi.restoreAllMocks();
    randomBucketIs(9999);
    expect(decide(high, 'GET', '/s', {}).upstream).toBe('legacy');
  });

  it('each whole-route mode gives its side with reason "mode", whatever the weight', () => {
    const t = tableOf(yaml);
    expect(decide(t, 'GET', '/m', {})).toEqual({ route: t.routes[2], upstream: 'legacy', mirror: true, reason: 'mode', missingKey: false });
    expect(decide(t, 'GET', '/v', {})).toEqual({ route: t.routes[3], upstream: 'v2', mirror: false, reason: 'mode', missingKey: false });
    expect(decide(t, 'GET', '/l', {})).toEqual({ route: t.routes[4], upstream: 'legacy', mirror: false, reason: 'mode', missingKey: false });
  });

  it('without a state the config gives each route its mode and weight; with one, the state does', () => {
    const plain = tableOf(yaml);
    expect(plain.version).toBe(0);
    expect(plain.routes.map((r) => [r.spec.name, r.mode, r.weight, r.v2Buckets])).toEqual([
      ['r', 'canary', 0, 0],
      ['s', 'canary', 100, 10_000],
      ['m', 'mirror', 0, 0],
      ['v', 'v2', 0, 0],
      ['l', 'legacy', 30, 3000],
    ]);
    expect(plain.defaultRoute).toMatchObject({ mode: 'legacy', weight: 0, v2Buckets: 0 });
    const st = tableOf(yaml, state({ r: { mode: 'canary', weight: 12.34 }, v: { mode: 'mirror', weight: 0 }, default: { mode: 'v2', weight: 0 } }, 9));
    expect(st.version).toBe(9);
    expect(st.routes.map((r) => [r.spec.name, r.mode, r.weight, r.v2Buckets])).toEqual([
      ['r', 'canary', 12.34, 1234],
      ['s', 'legacy', 0, 0],
      ['m', 'legacy', 0, 0],
      ['v', 'mirror', 0, 0],
      ['l', 'legacy', 0, 0],
    ]);
    expect(st.defaultRoute).toMatchObject({ mode: 'v2', weight: 0 });
    expect(decide(st, 'GET', '/anything', {}).upstream).toBe('v2');
  });

  it('a state of version 0 gives version 0, and the table and its routes are frozen', () => {
    const t = tableOf(yaml, state({}, 0));
    expect(t.version).toBe(0);
    expect(t.routes.every((r) => r.mode === 'legacy')).toBe(true);
    expect(Object.isFrozen(t)).toBe(true);
    expect(Object.isFrozen(t.routes)).toBe(true);
    expect(Object.isFrozen(t.routes[0])).toBe(true);
    expect(Object.isFrozen(t.defaultRoute)).toBe(true);
  });

  it('a route named like an Object.prototype member that the state does not hold is served by legacy', () => {
    const t = tableOf(
      `
routes:
  - { name: constructor, match: { method: GET, path: /a }, mode: v2 }
  - { name: toString, match: { method: GET, path: /b }, mode: v2 }
`,
      state({}),
    );
    expect(t.routes.map((r) => [r.mode, r.weight])).toEqual([
      ['legacy', 0],
      ['legacy', 0],
    ]);
    expect(decide(t, 'GET', '/a', {}).upstream).toBe('legacy');
  });
});

describe('targeting', () => {
  const yaml = `
routes:
  - name: t
    match: { method: GET, path: /acct/:id/:other }
    mode: canary
    weight: 0
    stickyBy: param:id
    target: { v2: { header: { X-Api-Key: [proj-a, proj-b] }, param: { id: [T-1] }, cookie: { Beta: ['yes'] } } }
  - name: empty
    match: { method: GET, path: /e }
    mode: canary
    weight: 0
    target: { v2: {} }
defaultRoute:
  mode: canary
  weight: 0
  target: { v2: { header: { x-team: [red] }, cookie: { beta: ['1'] } } }
`;
  let t: RouteTable;
  beforeEach(() => {
    t = tableOf(yaml);
  });

  it('a configured header value sends the request to V2 (header names in any case, any listed value)', () => {
    for (const v of ['proj-a', 'proj-b']) expect(decide(t, 'GET', '/acct/A/B', { 'x-api-key': v })).toMatchObject({ upstream: 'v2', reason: 'target', missingKey: false, mirror: false });
    expect(decide(t, 'GET', '/acct/A/B', { 'x-api-key': ['proj-a', 'z'] }).upstream).toBe('v2');
    for (const h of [{ 'x-api-key': 'proj-c' }, { 'x-api-key': 'PROJ-A' }, { 'x-other': 'proj-a' }, {}]) {
      expect(decide(t, 'GET', '/acct/A/B', h), JSON.stringify(h)).toMatchObject({ upstream: 'legacy', reason: 'weight' });
    }
  });

  it('a configured param value sends the request to V2, read from its own segment and decoded', () => {
    expect(decide(t, 'GET', '/acct/T-1/B', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(t, 'GET', '/acct/T%2D1/B', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(t, 'GET', '/acct/B/T-1', {})).toMatchObject({ upstream: 'legacy', reason: 'weight' });
    expect(decide(t, 'GET', '/acct/T-2/B', {})).toMatchObject({ upstream: 'legacy', reason: 'weight' });
  });

  it('a configured cookie value sends the request to V2 (the cookie name keeps its case)', () => {
    expect(decide(t, 'GET', '/acct/A/B', { cookie: 'x=1; Beta=yes' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    for (const cookie of ['beta=yes', 'Beta=no', 'Beta=', 'x=1']) expect(decide(t, 'GET', '/acct/A/B', { cookie }).upstream, cookie).toBe('legacy');
  });

  it('the default route is targeted by header and cookie', () => {
    expect(decide(t, 'GET', '/zzz', { 'x-team': 'red' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(t, 'GET', '/zzz', { cookie: 'beta=1' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(t, 'GET', '/zzz', { 'x-team': 'blue' })).toMatchObject({ upstream: 'legacy', reason: 'weight' });
  });

  it('targeting beats the weight at 100 too (reason "target"), and only in canary mode', () => {
    const full = tableOf(yaml, state({ t: { mode: 'canary', weight: 100 } }));
    expect(decide(full, 'GET', '/acct/T-1/B', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(full, 'GET', '/acct/A/B', {})).toMatchObject({ upstream: 'v2', reason: 'weight' });
    const mirror = tableOf(yaml, state({ t: { mode: 'mirror', weight: 0 } }));
    expect(decide(mirror, 'GET', '/acct/T-1/B', { 'x-api-key': 'proj-a' })).toMatchObject({ upstream: 'legacy', mirror: true, reason: 'mode' });
  });

  it('compiles targets: header names in lower case, params to their segment, an empty target to none', () => {
    const specs = compileRouteSpecs(configOf(yaml));
    const targets = specs.routes[0].targets!;
    expect(targets.header.map(([n, v]) => [n, [...v]])).toEqual([['x-api-key', ['proj-a', 'proj-b']]]);
    expect(targets.param.map(([n, v]) => [n, [...v]])).toEqual([[1, ['T-1']]]);
    expect(targets.cookie.map(([n, v]) => [n, [...v]])).toEqual([['Beta', ['yes']]]);
    expect(specs.routes[1].targets).toBeNull();
    expect(specs.defaultRoute.targets!.param).toEqual([]);
    expect(compileRouteSpecs(configOf('routes: []\n')).defaultRoute.targets).toBeNull();
  });

  it('a target of as many headers as params, and no cookie, still targets', () => {
    const two = tableOf(`
routes:
  - { name: f, match: { method: GET, path: '/x/:id' }, mode: canary, weight: 0, target: { v2: { header: { x-team: [red] }, param: { id: [T-1] } } } }
`);
    expect(decide(two, 'GET', '/x/T-1', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(two, 'GET', '/x/A', { 'x-team': 'red' })).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(two, 'GET', '/x/A', {})).toMatchObject({ upstream: 'legacy', reason: 'weight' });
  });

  it('a param target on the first segment works', () => {
    const first = tableOf(`
routes:
  - { name: f, match: { method: GET, path: '/:id/x' }, mode: canary, weight: 0, target: { v2: { param: { id: [T-1] } } } }
`);
    expect(decide(first, 'GET', '/T-1/x', {})).toMatchObject({ upstream: 'v2', reason: 'target' });
    expect(decide(first, 'GET', '/T-2/x', {})).toMatchObject({ upstream: 'legacy', reason: 'weight' });
  });

  it('a config built without validation: proxy-owned headers, params the path lacks and default-route params never target', () => {
    const base = configOf(yaml);
    const v2 = { header: { 'X-Cutover-Upstream': ['v2'], 'x-cutover-shadow': ['1'] }, param: { nope: ['T-1'] }, cookie: {} };
    const loose: CutoverConfig = {
      ...base,
      routes: [{ ...base.routes[0], target: { v2 } }],
      defaultRoute: { ...base.defaultRoute, target: { v2: { header: {}, param: { id: ['T-1'] }, cookie: {} } } },
    };
    const specs = compileRouteSpecs(loose);
    expect(specs.routes[0].targets).toBeNull();
    expect(specs.defaultRoute.targets).toBeNull();
    const lt = buildRouteTable(specs);
    expect(decide(lt, 'GET', '/acct/T-1/B', { 'x-cutover-upstream': 'v2', 'x-cutover-shadow': '1' })).toMatchObject({ upstream: 'legacy', reason: 'weight' });
  });
});

describe('compiled specs', () => {
  it('index, name, method, segments and params of each route; the default route comes last and takes any method', () => {
    const specs = compileRouteSpecs(configOf(`
routes:
  - { name: a, match: { method: GET, path: /x/:id/y }, mode: v2 }
  - { name: b, match: { method: POST, path: /z } }
defaultRoute: { name: rest }
`));
    expect(specs.routes.map((r) => [r.index, r.name, r.method, r.segments, r.paramNames])).toEqual([
      [0, 'a', 'GET', ['x', null, 'y'], [null, 'id', null]],
      [1, 'b', 'POST', ['z'], [null]],
    ]);
    expect([specs.defaultRoute.index, specs.defaultRoute.name, specs.defaultRoute.method, specs.defaultRoute.segments, specs.defaultRoute.paramNames]).toEqual([2, 'rest', null, [], []]);
    expect(specs.routes[0].config.mode).toBe('v2');
    expect(specs.defaultRoute.config.name).toBe('rest');
    for (const s of [...specs.routes, specs.defaultRoute]) {
      expect(Object.isFrozen(s)).toBe(true);
      expect(Object.isFrozen(s.segments)).toBe(true);
      expect(Object.isFrozen(s.paramNames)).toBe(true);
      expect(Object.isFrozen(s.sticky)).toBe(true);
      expect(Object.isFrozen(s.upstreams)).toBe(true);
      expect(Object.isFrozen(s.timeouts)).toBe(true);
    }
    const t = buildRouteTable(specs);
    expect(decide(t, 'DELETE', '/x/1/y', {}).route.spec.name).toBe('rest');
  });

  it('each side gets its route upstream, and the route timeout cut to a shorter upstream timeout (not to an equal or longer one)', () => {
    const specs = compileRouteSpecs(
      parseConfigText(
        `
upstreams:
  legacy: { url: http://127.0.0.1:1, timeoutMs: 5000 }
  v2: { url: http://127.0.0.1:2, timeoutMs: 30000 }
  v2b: { url: http://127.0.0.1:3, timeoutMs: 30001 }
  old: http://127.0.0.1:4
routes:
  - { name: a, match: { method: GET, path: /a } }
  - { name: b, match: { method: GET, path: /b }, timeoutMs: 4999 }
  - { name: c, match: { method: GET, path: /c }, legacy: old, v2: v2b }
defaultRoute: { timeoutMs: 5001, v2: v2b }
`,
        'test',
        {},
      ),
    );
    const sides = (s: (typeof specs.routes)[number]) => [s.upstreams.legacy.name, s.upstreams.v2.name, s.timeouts.legacy, s.timeouts.v2];
    expect(specs.routes.map(sides)).toEqual([
      ['legacy', 'v2', 5000, 30_000],
      ['legacy', 'v2', 4999, 4999],
      ['old', 'v2b', 30_000, 30_000],
    ]);
    expect(sides(specs.defaultRoute)).toEqual(['legacy', 'v2b', 5000, 5001]);
    expect(specs.routes[2].upstreams.legacy.index).toBe(3);
  });
});

describe('isUnsafePath', () => {
  it('refuses "." and ".." segments anywhere, plain or percent-encoded, first, middle or last', () => {
    for (const p of ['/.', '/..', '/../a', '/a/..', '/a/.', '/a/%2e', '/a/%2E%2E', '/a/.%2e/b', '/%2e%2e']) expect(isUnsafePath(p), p).toBe(true);
  });

  it('takes segments that only contain dots or encoded characters', () => {
    for (const p of ['/a.b', '/.a', '/a./b', '/...', '/a/%2e%2e%2e', '/a/%41%42', '/a/b%20c', '/', '/a/', '/a//b']) expect(isUnsafePath(p), p).toBe(false);
  });

  it('refuses a backslash, plain or encoded, and an encoded slash', () => {
    for (const p of ['/a\\b', '/\\', '/a/%5C', '/a/%5c..', '/a%2Fb', '/a/%2f']) expect(isUnsafePath(p), p).toBe(true);
  });

  it('does not read past the end into the query, even up to its next slash', () => {
    for (const q of ['..', '.', '%zz', 'x\\y', '%2F']) {
      const p = `/a.b/c?q=${q}/d`;
      expect(isUnsafePath(p, 6), p).toBe(false);
    }
    expect(isUnsafePath('/a.b/../c?q', 9)).toBe(true);
  });

  it('refuses a segment whose percent-encoding does not decode', () => {
    for (const p of ['/a/%zz', '/a/%', '/a/%E0%A4%A']) expect(isUnsafePath(p), p).toBe(true);
  });

  it('looks only before the end it is given (the query is not the path)', () => {
    for (const p of ['/a?x=..', '/a?x=/../b', '/a?x=%zz', '/a?x=\\', '/a?x=%2F']) expect(isUnsafePath(p, 2), p).toBe(false);
    expect(isUnsafePath('/a/..?x', 5)).toBe(true);
    expect(isUnsafePath('/a/..', 3)).toBe(false);
    expect(isUnsafePath('/..', 2)).toBe(true);
    expect(isUnsafePath('/..', 1)).toBe(false);
    expect(isUnsafePath('/a/%2e', 3)).toBe(false);
    expect(isUnsafePath('/a/%2e', 4)).toBe(true);
    expect(isUnsafePath('/a/.b', 4)).toBe(true);
  });
});

describe('cookieValue', () => {
  it('matches the whole name, case-sensitive, skipping spaces before it', () => {
    expect(cookieValue('sid=1', 'sid')).toBe('1');
    expect(cookieValue('   sid=1', 'sid')).toBe('1');
    expect(cookieValue('a=1;sid=2', 'sid')).toBe('2');
    expect(cookieValue('a=1;  sid=2', 'sid')).toBe('2');
    expect(cookieValue('xsid=1; sidx=2; Sid=3', 'sid')).toBeUndefined();
    expect(cookieValue('xsid=1; sid=2', 'sid')).toBe('2');
  });

  it('a one-letter name at the start of the header, and a name holding ";" never matches (a part ends at ";")', () => {
    expect(cookieValue('a=1', 'a')).toBe('1');
    expect(cookieValue('a=1; b=2', 'b')).toBe('2');
    expect(cookieValue('a;b=1', 'a;b')).toBeUndefined();
    expect(cookieValue('x; a;b=1', 'a;b')).toBeUndefined();
  });

  it('returns the first of two cookies with the name', () => {
    expect(cookieValue('sid=1; sid=2', 'sid')).toBe('1');
  });

  it('skips parts without "=" and does not read an "=" from a later part', () => {
    expect(cookieValue('sid; sid=2', 'sid')).toBe('2');
    expect(cookieValue('sid; x=2', 'sid')).toBeUndefined();
    expect(cookieValue('a; sid=3', 'a')).toBeUndefined();
    expect(cookieValue('flag', 'flag')).toBeUndefined();
  });

  it('trims the value, and removes one pair of surrounding double quotes', () => {
    expect(cookieValue('sid= x y ; b=2', 'sid')).toBe('x y');
    expect(cookieValue('sid="q"', 'sid')).toBe('q');
    expect(cookieValue('sid=""', 'sid')).toBe('');
    expect(cookieValue('sid="', 'sid')).toBe('"');
    expect(cookieValue('sid="q', 'sid')).toBe('"q');
    expect(cookieValue('sid=q"', 'sid')).toBe('q"');
    expect(cookieValue('sid=""q""', 'sid')).toBe('"q"');
    expect(cookieValue('sid=', 'sid')).toBe('');
    expect(cookieValue('sid=a=b', 'sid')).toBe('a=b');
  });

  it('no header, an empty one, or a name not present gives undefined', () => {
    expect(cookieValue(undefined, 'sid')).toBeUndefined();
    expect(cookieValue('', 'sid')).toBeUndefined();
    expect(cookieValue('; ;', 'sid')).toBeUndefined();
    expect(cookieValue('a=1; b=2', 'sid')).toBeUndefined();
  });
});
