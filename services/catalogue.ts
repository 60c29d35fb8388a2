/**
 * The demo services by name: legacy (the monolith, every endpoint) and the V2 services
 * extracted from it by concern. `v2` is the single V2 of the old layout, serving everything.
 * A V2 service answers only its own endpoints; anything else is its plain 404, as a real
 * extracted service that never had the route.
 */
import { ENDPOINT_NAMES, type Endpoint } from './endpoints.js';
import type { ServiceName } from './data/ledger.js';

export interface ServiceDef {
  /** The name it prints, reports in /healthz and is addressed by (`--fault statements-v2.latencyMs=5`). */
  readonly name: string;
  /** Which implementation: the monolith's or the rewrite's. */
  readonly kind: ServiceName;
  readonly endpoints: readonly Endpoint[];
}

export const LEGACY_SERVICE: ServiceDef = { name: 'legacy', kind: 'legacy', endpoints: ENDPOINT_NAMES };
export const SINGLE_V2_SERVICE: ServiceDef = { name: 'v2', kind: 'v2', endpoints: ENDPOINT_NAMES };

/** The V2 services of the split layout, in port order (the first takes --v2-port). */
export const V2_SERVICES: readonly ServiceDef[] = [
  { name: 'transactions-v2', kind: 'v2', endpoints: ['transactions', 'post-transaction'] },
  { name: 'statements-v2', kind: 'v2', endpoints: ['statement'] },
  { name: 'wallets-v2', kind: 'v2', endpoints: ['wallet'] },
  { name: 'members-v2', kind: 'v2', endpoints: ['member', 'balance', 'hierarchy-balance'] },
];

/** legacy plus the V2 services by concern: what `cutover services` starts. */
export const SPLIT_LAYOUT: readonly ServiceDef[] = [LEGACY_SERVICE, ...V2_SERVICES];
/** legacy plus one V2 with every endpoint: `cutover services --layout single`. */
export const SINGLE_LAYOUT: readonly ServiceDef[] = [LEGACY_SERVICE, SINGLE_V2_SERVICE];

export const SERVICE_NAMES: readonly string[] = [...SPLIT_LAYOUT, SINGLE_V2_SERVICE].map((s) => s.name);

export function serviceNamed(name: string): ServiceDef | undefined {
  return [...SPLIT_LAYOUT, SINGLE_V2_SERVICE].find((s) => s.name === name);
}

/** The V2 service of the split layout that serves `endpoint`. */
export function v2ServiceOf(endpoint: Endpoint): ServiceDef {
  return V2_SERVICES.find((s) => s.endpoints.includes(endpoint))!;
}
