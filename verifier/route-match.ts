/**
 * Which configured route a recorded request belongs to (method + path pattern, first match
 * wins, else the default route): the proxy's own pure route table, so offline verification
 * picks the same compare rules the live proxy would.
 */
import type { CutoverConfig } from '../shared/config.js';
import { buildRouteTable, compileRouteSpecs, matchRoute } from '../proxy/route-table.js';

export type RouteMatcher = (method: string, path: string) => string;

export function routeMatcher(config: Readonly<CutoverConfig>): RouteMatcher {
  const table = buildRouteTable(compileRouteSpecs(config));
  return (method, path) => {
    const q = path.indexOf('?');
    return matchRoute(table, method.toUpperCase(), path, q === -1 ? path.length : q).spec.name;
  };
}
