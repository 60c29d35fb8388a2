/**
 * What the demo tells each reader, as plain data and text: QA's view (the top finding of the
 * mirror step, with an example) and on-call's view (why the canary rolled back, with the
 * failing threshold and its numbers). Pure: data in, lines out.
 */
import type { CheckResult } from '../plan/analysis.js';
import type { AggregateSnapshot } from '../../verifier/types.js';

export interface TopFinding {
  route: string;
  path: string;
  kind: string;
  /** Pairs with this finding open. */
  count: number;
  /** Of the route's verified pairs. */
  rate: number;
  routePairs: number;
  example: { method: string; url: string; pointer: string; legacy: unknown; v2: unknown } | null;
}

/** The open finding seen in the most pairs, over every route. */
export function topFinding(snapshot: AggregateSnapshot): TopFinding | null {
  let best: TopFinding | null = null;
  for (const r of snapshot.routes) {
    for (const p of r.paths) {
      if (p.count <= 0 || (best && p.count <= best.count)) continue;
      const ex = p.examples[0];
      best = {
        route: r.route,
        path: p.path,
        kind: p.kind,
        count: p.count,
        rate: p.rate,
        routePairs: r.pairs,
        example: ex ? { method: ex.method, url: ex.path, pointer: ex.pointer, legacy: ex.legacy, v2: ex.v2 } : null,
      };
    }
  }
  return best;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;

/** Which V2 service each route sends its V2 side to, by route name. */
export type RouteServices = Readonly<Record<string, string>>;

const onService = (route: string, services?: RouteServices) => (services?.[route] ? ` (${services[route]})` : '');

/** The distinct services of `routes`, in order of first appearance. */
export function servicesOfRoutes(routes: readonly string[], services: RouteServices): string[] {
  return [...new Set(routes.map((r) => services[r] ?? `route ${r}`))];
}

/** One entry per service: `statements-v2: statement 100 %`, modes as the state holds them. */
export function routesByService(routes: Readonly<Record<string, { mode: string; weight?: number }>>, services: RouteServices): string[] {
  const by = new Map<string, string[]>();
  for (const [route, svc] of Object.entries(services)) {
    const r = routes[route];
    const where = !r ? 'legacy' : r.mode === 'canary' ? `${r.weight ?? 0} %` : r.mode;
    by.set(svc, [...(by.get(svc) ?? []), `${route} ${where}`]);
  }
  return [...by].map(([svc, rs]) => `${svc}: ${rs.join(', ')}`);
}

export function qaView(snapshot: AggregateSnapshot, top: TopFinding | null, services?: RouteServices): string[] {
  const pairs = snapshot.totals.pairs;
  const lines = [`verified pairs: ${pairs}, with an open difference: ${snapshot.totals.mismatch}`];
  if (!top) return [...lines, 'no difference found'];
  lines.push(`top finding: route ${top.route}${onService(top.route, services)}, path ${top.path} (${top.kind}), in ${top.count} of ${top.routePairs} pairs (${pct(top.rate)})`);
  if (top.example) {
    lines.push(`example: ${top.example.method} ${top.example.url}`);
    lines.push(`  ${top.example.pointer}: legacy ${JSON.stringify(top.example.legacy)}  V2 ${JSON.stringify(top.example.v2)}`);
  }
  const others = snapshot.routes.flatMap((r) => r.paths.filter((p) => p.count > 0 && !(r.route === top.route && p.path === top.path)).map((p) => `${r.route} ${p.path} (${p.count})`));
  if (others.length > 0) lines.push(`also: ${others.slice(0, 4).join(', ')}${others.length > 4 ? `, and ${others.length - 4} more` : ''}`);
  return lines;
}

export interface RollbackView {
  reason: string;
  applied: boolean;
  elapsedMs?: number;
  /** The checks that failed in the interval that decided. */
  failing: CheckResult[];
}

export function onCallView(rb: RollbackView | null, services?: RouteServices): string[] {
  if (!rb) return ['no rollback happened'];
  const lines = [`rolled back: ${rb.reason}`];
  for (const c of rb.failing) {
    const unit = c.check.startsWith('latency') && c.check !== 'latencyJudgment' ? ' ms' : '';
    const limit = c.rule === 'maxRatioToLegacy' ? `${c.limit}x legacy` : `${c.limit ?? '?'}${unit}`;
    const legacy = c.legacy !== undefined ? ` vs legacy ${round(c.legacy)}${unit}${c.legacy > 0 && c.value !== undefined ? ` (${round(c.value / c.legacy)}x)` : ''}` : '';
    lines.push(`  failing threshold: ${c.check} ${c.rule ?? 'max'} ${limit} on route ${c.route}${onService(c.route, services)}: V2 ${round(c.value)}${unit}${legacy}, ${c.v2Requests} V2 / ${c.legacyRequests} legacy requests`);
  }
  lines.push(rb.applied ? `every proxy replica applied the rollback${rb.elapsedMs !== undefined ? ` in ${rb.elapsedMs} ms` : ''}: all traffic is back on legacy` : 'WARNING: not every replica confirmed the rollback');
  return lines;
}

function round(x: number | undefined): string {
  if (x === undefined) return '?';
  return Number.isInteger(x) ? String(x) : x.toFixed(x < 1 ? 4 : 1);
}
