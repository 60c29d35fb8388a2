/**
 * Which routes belong to which service: the map route -> { legacy, v2 } upstream names that a
 * config gives (its routes and its default route), and the routes whose V2 side is a named
 * upstream (`cutover abort --upstream statements-v2`, a plan's `upstreams:`).
 *
 * Kept free of zod and yaml: replicas heartbeat this map, and `cutover status` / the verbs read
 * it from the registry when no cutover.yaml is at hand.
 */
import { stateInput } from './state/errors.js';

export interface Sides {
  readonly legacy: string;
  readonly v2: string;
}

/** Route name -> its two sides, by upstream name. */
export type RouteSidesMap = Readonly<Record<string, Sides>>;

export const DEFAULT_LEGACY_UPSTREAM = 'legacy';
export const DEFAULT_V2_UPSTREAM = 'v2';

type RouteLike = { name: string; legacy?: string; v2?: string };

/** A route's (or the default route's) legacy and V2 upstream names. */
export function routeSides(route: { legacy?: string; v2?: string }): Sides {
  return { legacy: route.legacy ?? DEFAULT_LEGACY_UPSTREAM, v2: route.v2 ?? DEFAULT_V2_UPSTREAM };
}

/** Every route of a (validated) config, the default route included, with its two sides. */
export function routeSidesOf(config: { routes: readonly RouteLike[]; defaultRoute: RouteLike }): RouteSidesMap {
  const out: Record<string, Sides> = {};
  for (const r of [...config.routes, config.defaultRoute]) out[r.name] = routeSides(r);
  return out;
}

/** Whether any route moves between upstreams other than the default `legacy` and `v2` (a config with one V2 reads as before). */
export function hasNamedServices(sides: RouteSidesMap | undefined): sides is RouteSidesMap {
  return !!sides && Object.values(sides).some((s) => s.legacy !== DEFAULT_LEGACY_UPSTREAM || s.v2 !== DEFAULT_V2_UPSTREAM);
}

/** V2 upstream name -> its routes, in route order. */
export function routesByV2(sides: RouteSidesMap): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [route, s] of Object.entries(sides)) {
    const list = out.get(s.v2);
    if (list) list.push(route);
    else out.set(s.v2, [route]);
  }
  return out;
}

/** `statements-v2 (statement, statement-pdf), wallets-v2 (wallet)` */
export function describeV2Upstreams(sides: RouteSidesMap): string {
  const by = routesByV2(sides);
  return by.size ? [...by].map(([u, routes]) => `${u} (${routes.join(', ')})`).join(', ') : '(none)';
}

/**
 * The routes whose V2 side is `upstream`. Anything else is an input error naming `field`, the
 * rule and the value, listing the V2 upstreams there are (exit 2 / HTTP 400).
 */
export function routesOfUpstream(sides: RouteSidesMap, upstream: unknown, field = 'upstream'): string[] {
  if (typeof upstream !== 'string' || upstream === '') {
    throw stateInput(field, `must name a V2 upstream (got ${JSON.stringify(upstream ?? null)}); V2 upstreams: ${describeV2Upstreams(sides)}`);
  }
  const routes = routesByV2(sides).get(upstream);
  if (routes) return routes;
  const asLegacy = Object.entries(sides).filter(([, s]) => s.legacy === upstream).map(([r]) => r);
  const what = asLegacy.length ? `is the legacy side of ${asLegacy.join(', ')}, not the V2 side of any route` : 'is the V2 side of no route';
  throw stateInput(field, `must name the V2 side of at least one route: "${upstream}" ${what}; V2 upstreams: ${describeV2Upstreams(sides)}`);
}

/** The services (V2 upstreams) of `routes`, each with the routes of that list it holds; routes without known sides are left out. */
export function servicesOf(sides: RouteSidesMap | undefined, routes: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!sides) return out;
  for (const r of routes) {
    const s = sides[r];
    if (!s) continue;
    const list = out.get(s.v2);
    if (list) {
      if (!list.includes(r)) list.push(r);
    } else out.set(s.v2, [r]);
  }
  return out;
}

/** The sides every live replica reports, merged (a route two replicas disagree on keeps the first seen). */
export function sidesFromReplicas(replicas: ReadonlyArray<{ sides?: Record<string, Sides> }>): RouteSidesMap | undefined {
  let out: Record<string, Sides> | undefined;
  for (const r of replicas) {
    for (const [route, s] of Object.entries(r.sides ?? {})) {
      out ??= {};
      out[route] ??= s;
    }
  }
  return out;
}
