/**
 * What "every route" means when a user does not name them (`set-weight --all`, a plan without
 * `routes:`): the config's named routes, never the catch-all default route (it sees only what
 * no route matches, often nothing, so a step on it is inconclusive forever), and not a route
 * that only takes writes (POST, PUT, PATCH, DELETE) unless it opted in to being mirrored
 * (`mirrorUnsafe: true`) or the user asks: such a route is never mirrored, so no mirror step
 * can judge it, and a canary on it sends real writes to V2. Naming a route always drives it.
 */
import type { CutoverConfig } from '../shared/config.js';

export const UNSAFE_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH', 'DELETE'];
/** The default route's name when there is no cutover.yaml to say otherwise. */
export const DEFAULT_ROUTE_NAME = 'default';

export interface RouteChoice {
  routes: string[];
  /** Routes of the state that are not included, each with why. */
  left: Array<{ route: string; why: string }>;
  /** Without a config the methods are unknown: said once. */
  note?: string;
}

export function chooseNamedRoutes(
  stateRoutes: readonly string[],
  config: Pick<CutoverConfig, 'routes' | 'defaultRoute'> | undefined,
  opts: { includeUnsafe?: boolean; unsafeHint: string },
): RouteChoice {
  const routes: string[] = [];
  const left: RouteChoice['left'] = [];
  const defaultName = config?.defaultRoute.name ?? DEFAULT_ROUTE_NAME;
  const byName = new Map((config?.routes ?? []).map((r) => [r.name, r]));
  for (const name of stateRoutes) {
    if (name === defaultName) {
      left.push({ route: name, why: 'the catch-all default route (requests no route matches); name it to include it' });
      continue;
    }
    if (!config) {
      routes.push(name);
      continue;
    }
    const r = byName.get(name);
    if (!r) {
      left.push({ route: name, why: 'not in cutover.yaml (a route of an older config?); name it to include it' });
      continue;
    }
    if (UNSAFE_METHODS.includes(r.match.method) && !r.mirrorUnsafe && !opts.includeUnsafe) {
      left.push({ route: name, why: `${r.match.method} ${r.match.path} writes (an unsafe method, never mirrored); ${opts.unsafeHint}` });
      continue;
    }
    routes.push(name);
  }
  return {
    routes,
    left,
    ...(config ? {} : { note: `no cutover.yaml: every route except "${defaultName}", whatever its method` }),
  };
}

/** `balance, transactions; not default (the catch-all...), not payments (POST ...)` */
export function describeChoice(c: RouteChoice): string {
  const parts = [c.routes.join(', ') || '(none)'];
  for (const l of c.left) parts.push(`not ${l.route}: ${l.why}`);
  if (c.note) parts.push(c.note);
  return parts.join('; ');
}
