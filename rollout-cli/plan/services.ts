/**
 * Services in a plan: `upstreams: [statements-v2]` on the plan or on a step means the routes
 * whose V2 side is that upstream (cutover.yaml, or the replicas' heartbeats when there is no
 * cutover.yaml). They are resolved once, before the run, into the routes the driver works on;
 * a name that is no route's V2 side is a plan error naming the field (exit 2, nothing changes).
 * And the other way round: which services a failing check's routes belong to, so that a
 * rollback says which service broke.
 */
import { InputError } from '../../shared/errors.js';
import { hasNamedServices, routesOfUpstream, servicesOf, type RouteSidesMap } from '../../shared/upstream-routes.js';
import type { CheckResult } from './analysis.js';
import { planError } from './errors.js';
import type { Plan, PlanStep } from './schema.js';

function namesServices(plan: Plan): boolean {
  return Boolean(plan.upstreams) || plan.steps.some((s) => s.kind !== 'pause' && s.upstreams);
}

function routesOf(sides: RouteSidesMap, names: readonly string[], field: string): string[] {
  return names.flatMap((name, i) => {
    try {
      return routesOfUpstream(sides, name);
    } catch (err) {
      if (err instanceof InputError) throw planError(`${field}[${i}]`, err.message.slice(err.field.length + 2), err);
      throw err;
    }
  });
}

const union = (a: readonly string[] | undefined, b: readonly string[]): string[] => [...new Set([...(a ?? []), ...b])];

/** The plan with every service it names added to the routes of the plan or step that names it. */
export function resolvePlanServices(plan: Readonly<Plan>, sides: RouteSidesMap | undefined): Readonly<Plan> {
  if (!namesServices(plan)) return plan;
  if (!sides) {
    const field = plan.upstreams ? 'upstreams' : `steps[${plan.steps.findIndex((s) => s.kind !== 'pause' && s.upstreams)}].upstreams`;
    throw planError(field, "names services, but which routes a service serves comes from cutover.yaml (--config) or from the live replicas' heartbeats, and neither is at hand");
  }
  const steps = plan.steps.map((s, i): PlanStep => (s.kind !== 'pause' && s.upstreams ? { ...s, routes: union(s.routes, routesOf(sides, s.upstreams, `steps[${i}].upstreams`)) } : s));
  return {
    ...plan,
    ...(plan.upstreams ? { routes: union(plan.routes, routesOf(sides, plan.upstreams, 'upstreams')) } : {}),
    steps,
  };
}

/**
 * The V2 services whose routes failed a check, with those routes; empty when the sides are
 * unknown or the config has one V2 only (its reasons read as they always did).
 */
export function failingServices(checks: ReadonlyArray<CheckResult>, sides: RouteSidesMap | undefined): Array<{ upstream: string; routes: string[] }> {
  if (!hasNamedServices(sides)) return [];
  const by = servicesOf(
    sides,
    checks.filter((c) => c.status === 'fail').map((c) => c.route),
  );
  return [...by].map(([upstream, routes]) => ({ upstream, routes }));
}

/** ` [V2 service statements-v2: statement]`, or nothing. */
export function describeServices(services: ReadonlyArray<{ upstream: string; routes: string[] }>): string {
  if (!services.length) return '';
  const list = services.map((s) => `${s.upstream}: ${s.routes.join(', ')}`).join('; ');
  return ` [V2 service${services.length === 1 ? '' : 's'} ${list}]`;
}
