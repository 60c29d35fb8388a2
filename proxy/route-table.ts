/**
 * The route table: an immutable, precompiled view of the frozen config plus the applied
 * rollout state (each route's mode and weight). The data plane holds one table at a time and
 * swaps it in one assignment when a new state is applied, so a request sees the old table or
 * the new one, never a mix.
 *
 * Matching is method + path pattern, first match wins, the default route takes the rest.
 * Patterns are compiled once into segment lists; a request is matched by walking its path
 * string, without building a regex or splitting the path.
 */
import type { CutoverConfig, DefaultRouteConfig, Mode, RouteConfig } from '../shared/config.js';
import type { RolloutState } from '../shared/state/types.js';
import { routeUpstreams, type UpstreamSpec } from '../shared/upstreams.js';
import { BUCKETS, bucketInV2, bucketOf, randomBucket, v2Buckets } from './bucket.js';

export type Side = 'legacy' | 'v2';
export type StickyKind = 'param' | 'header' | 'cookie' | 'none';
export type RouteReason = 'mode' | 'weight' | 'target';

/** Where a route's settings came from: the config, shared by every table built from it. */
export interface RouteSpec {
  /** 0..n-1 for configured routes, n for the default route. Stable for the life of the process. */
  readonly index: number;
  readonly name: string;
  readonly config: Readonly<RouteConfig> | Readonly<DefaultRouteConfig>;
  /** null: any method (the default route). */
  readonly method: string | null;
  /** One entry per path segment: a literal, or null for a `:param`; '*' as the last one takes the rest. */
  readonly segments: ReadonlyArray<string | null>;
  readonly paramNames: ReadonlyArray<string | null>;
  readonly sticky: { readonly kind: StickyKind; readonly name: string; readonly segment: number };
  readonly targets: CompiledTargets | null;
  /** The upstream serving each side of this route (its pool is `upstream.index`), resolved once. */
  readonly upstreams: Readonly<Record<Side, UpstreamSpec>>;
  /** The route's timeoutMs per side, cut to that upstream's own timeoutMs when it has a shorter one. */
  readonly timeouts: Readonly<Record<Side, number>>;
}

export interface CompiledTargets {
  readonly header: ReadonlyArray<readonly [string, ReadonlySet<string>]>;
  readonly param: ReadonlyArray<readonly [number, ReadonlySet<string>]>;
  readonly cookie: ReadonlyArray<readonly [string, ReadonlySet<string>]>;
}

export interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly mode: Mode;
  readonly weight: number;
  /** Buckets 0..v2Buckets-1 go to V2 in canary mode. */
  readonly v2Buckets: number;
}

export interface RouteTable {
  /** The applied state version this table was built from (0 = config only). */
  readonly version: number;
  readonly routes: ReadonlyArray<CompiledRoute>;
  readonly defaultRoute: CompiledRoute;
}

/** The outcome of routing one request. */
export interface Decision {
  route: CompiledRoute;
  upstream: Side;
  /** Serve legacy and copy to V2 (mirror mode). */
  mirror: boolean;
  reason: RouteReason;
  /** Canary request whose sticky key was absent (it was bucketed at random). */
  missingKey: boolean;
}

/** Headers only the proxy may set: stripped from client requests, never used for routing. */
export const PROXY_OWNED_HEADERS = ['x-cutover-upstream', 'x-cutover-shadow'] as const;

function compilePattern(path: string): { segments: Array<string | null>; paramNames: Array<string | null> } {
  const parts = path.slice(1).split('/');
  const segments: Array<string | null> = [];
  const paramNames: Array<string | null> = [];
  for (const p of parts) {
    if (p.startsWith(':') && p.length > 1) {
      segments.push(null);
      paramNames.push(p.slice(1));
    } else {
      segments.push(p);
      paramNames.push(null);
    }
  }
  return { segments, paramNames };
}

function compileSticky(stickyBy: string, paramNames: ReadonlyArray<string | null>): RouteSpec['sticky'] {
  if (stickyBy === 'none') return { kind: 'none', name: '', segment: -1 };
  const colon = stickyBy.indexOf(':');
  const kind = stickyBy.slice(0, colon) as StickyKind;
  const name = stickyBy.slice(colon + 1);
  if (kind === 'param') return { kind, name, segment: paramNames.indexOf(name) };
  return { kind, name: kind === 'header' ? name.toLowerCase() : name, segment: -1 };
}

function compileTargets(config: RouteSpec['config'], paramNames: ReadonlyArray<string | null>): CompiledTargets | null {
  const v2 = config.target?.v2;
  if (!v2) return null;
  const header = Object.entries(v2.header)
    .filter(([name]) => !(PROXY_OWNED_HEADERS as readonly string[]).includes(name.toLowerCase()))
    .map(([name, values]) => [name.toLowerCase(), new Set(values)] as const);
  const param = Object.entries(v2.param)
    .map(([name, values]) => [paramNames.indexOf(name), new Set(values)] as const)
    .filter(([segment]) => segment >= 0);
  const cookie = Object.entries(v2.cookie).map(([name, values]) => [name, new Set(values)] as const);
  if (header.length + param.length + cookie.length === 0) return null;
  return { header, param, cookie };
}

/** A route's two upstreams and its timeout per side (an upstream's timeoutMs caps the route's). */
function compileSides(config: Readonly<CutoverConfig>, route: RouteSpec['config']): Pick<RouteSpec, 'upstreams' | 'timeouts'> {
  const u = routeUpstreams(config, route);
  const cap = (up: UpstreamSpec) => (up.timeoutMs !== undefined && up.timeoutMs < route.timeoutMs ? up.timeoutMs : route.timeoutMs);
  return { upstreams: Object.freeze({ legacy: u.legacy, v2: u.v2 }), timeouts: Object.freeze({ legacy: cap(u.legacy), v2: cap(u.v2) }) };
}

/** Compile the config's routes once; tables for each applied state reuse these specs. */
export function compileRouteSpecs(config: Readonly<CutoverConfig>): { routes: RouteSpec[]; defaultRoute: RouteSpec } {
  const routes = config.routes.map((r, index): RouteSpec => {
    const { segments, paramNames } = compilePattern(r.match.path);
    return Object.freeze({
      index,
      name: r.name,
      config: r,
      method: r.match.method,
      segments: Object.freeze(segments),
      paramNames: Object.freeze(paramNames),
      sticky: Object.freeze(compileSticky(r.stickyBy, paramNames)),
      targets: compileTargets(r, paramNames),
      ...compileSides(config, r),
    });
  });
  const d = config.defaultRoute;
  const defaultRoute: RouteSpec = Object.freeze({
    index: routes.length,
    name: d.name,
    config: d,
    method: null,
    segments: Object.freeze([]),
    paramNames: Object.freeze([]),
    sticky: Object.freeze(compileSticky(d.stickyBy.startsWith('param:') ? 'none' : d.stickyBy, [])),
    targets: compileTargets({ ...d, target: d.target ? { v2: { ...d.target.v2, param: {} } } : undefined }, []),
    ...compileSides(config, d),
  });
  return { routes, defaultRoute };
}

/**
 * A route the state does not hold is served by legacy: the state is the only authority (the
 * replica agent adds the route to the state; until then, and while aborted, legacy is safe).
 * Without any state (unit tests of the table) the config's mode applies.
 */
function compileRoute(spec: RouteSpec, state: RolloutState | undefined): CompiledRoute {
  const s = state ? (Object.hasOwn(state.routes, spec.name) ? state.routes[spec.name] : undefined) : undefined;
  const mode = state ? (s?.mode ?? 'legacy') : spec.config.mode;
  const weight = state ? (s?.weight ?? 0) : spec.config.weight;
  return Object.freeze({ spec, mode, weight, v2Buckets: v2Buckets(weight) });
}

/** A new immutable table: the config's routes with each route's mode/weight from the state when it has one. */
export function buildRouteTable(
  specs: { routes: ReadonlyArray<RouteSpec>; defaultRoute: RouteSpec },
  state?: RolloutState,
): RouteTable {
  return Object.freeze({
    version: state?.version ?? 0,
    routes: Object.freeze(specs.routes.map((s) => compileRoute(s, state))),
    defaultRoute: compileRoute(specs.defaultRoute, state),
  });
}

// Segment bounds of the last match, [start, end) per segment. Matching and deciding are
// synchronous, so one scratch array serves every request.
let bounds = new Int32Array(64);

function matchSegments(segments: ReadonlyArray<string | null>, path: string, end: number): boolean {
  const n = segments.length;
  if (n * 2 > bounds.length) bounds = new Int32Array(n * 2);
  let p = 1;
  for (let i = 0; i < n; i++) {
    if (p > end) return false;
    const lit = segments[i];
    if (lit === '*' && i === n - 1) {
      bounds[i * 2] = p;
      bounds[i * 2 + 1] = end;
      return true;
    }
    let e = path.indexOf('/', p);
    if (e === -1 || e > end) e = end;
    if (lit === null) {
      if (e === p) return false;
    } else if (e - p !== lit.length || !path.startsWith(lit, p)) {
      return false;
    }
    bounds[i * 2] = p;
    bounds[i * 2 + 1] = e;
    p = e + 1;
  }
  return p > end;
}

function segmentValue(path: string, segment: number): string {
  const v = path.slice(bounds[segment * 2], bounds[segment * 2 + 1]);
  if (v.indexOf('%') === -1) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * True when the path has a "." or ".." segment (plain or percent-encoded), a backslash, or an
 * encoded slash: such a path could be resolved differently by an upstream than by our matcher,
 * so it is refused rather than normalised.
 */
export function isUnsafePath(path: string, end: number = path.length): boolean {
  const dot = path.indexOf('.');
  const pct = path.indexOf('%');
  const bs = path.indexOf('\\');
  if ((dot === -1 || dot >= end) && (pct === -1 || pct >= end) && (bs === -1 || bs >= end)) return false;
  let start = 1;
  while (start <= end) {
    let e = path.indexOf('/', start);
    if (e === -1 || e > end) e = end;
    let seg = path.slice(start, e);
    if (seg.indexOf('%') !== -1) {
      try {
        seg = decodeURIComponent(seg);
      } catch {
        return true;
      }
      if (seg.indexOf('/') !== -1) return true;
    }
    if (seg === '.' || seg === '..' || seg.indexOf('\\') !== -1) return true;
    start = e + 1;
  }
  return false;
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let i = 0;
  while (i < header.length) {
    while (header.charCodeAt(i) === 32) i++;
    let semi = header.indexOf(';', i);
    if (semi === -1) semi = header.length;
    const eq = header.indexOf('=', i);
    if (eq !== -1 && eq < semi && eq - i === name.length && header.startsWith(name, i)) {
      let v = header.slice(eq + 1, semi).trim();
      if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
      return v;
    }
    i = semi + 1;
  }
  return undefined;
}

type Headers = Record<string, string | string[] | undefined>;

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

/** The matched route, or the default. `pathEnd` is where the path ends (before `?`). */
export function matchRoute(table: RouteTable, method: string, path: string, pathEnd: number): CompiledRoute {
  const routes = table.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i];
    if (r.spec.method === method && matchSegments(r.spec.segments, path, pathEnd)) return r;
  }
  return table.defaultRoute;
}

function isTargeted(t: CompiledTargets, path: string, headers: Headers): boolean {
  for (const [name, values] of t.header) {
    const v = headerValue(headers, name);
    if (v !== undefined && values.has(v)) return true;
  }
  for (const [segment, values] of t.param) if (values.has(segmentValue(path, segment))) return true;
  if (t.cookie.length > 0) {
    const cookie = headerValue(headers, 'cookie');
    for (const [name, values] of t.cookie) {
      const v = cookieValue(cookie, name);
      if (v !== undefined && values.has(v)) return true;
    }
  }
  return false;
}

/** The sticky key of a request, or undefined when the route has none or the request lacks it. */
function stickyKey(spec: RouteSpec, path: string, headers: Headers): string | undefined {
  const s = spec.sticky;
  switch (s.kind) {
    case 'param':
      return s.segment >= 0 ? segmentValue(path, s.segment) : undefined;
    case 'header': {
      const v = headerValue(headers, s.name);
      return v === '' ? undefined : v;
    }
    case 'cookie': {
      const v = cookieValue(headerValue(headers, 'cookie'), s.name);
      return v === '' ? undefined : v;
    }
    default:
      return undefined;
  }
}

/**
 * Route one request: which upstream serves it, and whether a copy goes to V2. Pure except for
 * the random bucket of a request without a sticky key. Client-sent `x-cutover-*` headers play
 * no part: nothing here reads them.
 */
export function decide(table: RouteTable, method: string, url: string, headers: Headers): Decision {
  let pathEnd = url.indexOf('?');
  if (pathEnd === -1) pathEnd = url.length;
  const route = matchRoute(table, method, url, pathEnd);
  switch (route.mode) {
    case 'legacy':
      return { route, upstream: 'legacy', mirror: false, reason: 'mode', missingKey: false };
    case 'v2':
      return { route, upstream: 'v2', mirror: false, reason: 'mode', missingKey: false };
    case 'mirror':
      return { route, upstream: 'legacy', mirror: true, reason: 'mode', missingKey: false };
  }
  // canary
  const spec = route.spec;
  if (spec.targets !== null && isTargeted(spec.targets, url, headers)) {
    return { route, upstream: 'v2', mirror: false, reason: 'target', missingKey: false };
  }
  if (route.v2Buckets === 0 || route.v2Buckets === BUCKETS) {
    return { route, upstream: route.v2Buckets === 0 ? 'legacy' : 'v2', mirror: false, reason: 'weight', missingKey: false };
  }
  const key = stickyKey(spec, url, headers);
  const missingKey = key === undefined && spec.sticky.kind !== 'none';
  const bucket = key === undefined ? randomBucket() : bucketOf(spec.name, key);
  return { route, upstream: bucketInV2(bucket, route.v2Buckets) ? 'v2' : 'legacy', mirror: false, reason: 'weight', missingKey };
}
