/**
 * Per-route comparison settings taken from the config: compare rules and maxBodyBytes by route
 * name, the default route's for any other name. Plain data, so it can be handed to worker threads.
 */
import type { CutoverConfig } from '../shared/config.js';
import type { CompareSettings } from './compare.js';

export interface RouteSettingsTable {
  byRoute: Record<string, CompareSettings>;
  fallback: CompareSettings;
}

export function routeSettingsFromConfig(config: Pick<CutoverConfig, 'routes' | 'defaultRoute'> | undefined): RouteSettingsTable {
  const byRoute: Record<string, CompareSettings> = {};
  if (!config) return { byRoute, fallback: {} };
  for (const r of config.routes) byRoute[r.name] = { compare: r.compare, maxBodyBytes: r.maxBodyBytes };
  const fallback: CompareSettings = { compare: config.defaultRoute.compare, maxBodyBytes: config.defaultRoute.maxBodyBytes };
  byRoute[config.defaultRoute.name] = fallback;
  return { byRoute, fallback };
}

export function settingsFor(table: RouteSettingsTable, route: string): CompareSettings {
  return Object.prototype.hasOwnProperty.call(table.byRoute, route) ? table.byRoute[route] : table.fallback;
}
