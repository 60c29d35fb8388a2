/**
 * A fleet whose routes move to three V2 services: one legacy origin (the monolith) and three V2
 * origins (transactions-v2, statements-v2, wallets-v2), proxies (real data and admin planes on
 * loopback, each with its own localState folder) on one store, and helpers that tell which side
 * served a route and how many requests each origin saw for a path.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../shared/config.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, type Origin } from '../proxy/origins.js';
import { TOKEN } from './fleet.js';

export const V2_SERVICES = ['transactions-v2', 'statements-v2', 'wallets-v2'] as const;
export type V2Service = (typeof V2_SERVICES)[number];

export interface ServiceRoute {
  name: string;
  path: string;
  v2: V2Service;
  mode: 'legacy' | 'mirror' | 'canary' | 'v2';
  weight?: number;
}

/** Two routes on statements-v2, one on each of the others; all at canary 100 unless said otherwise. */
export const SERVICE_ROUTES: ServiceRoute[] = [
  { name: 'tx', path: '/tx', v2: 'transactions-v2', mode: 'canary', weight: 100 },
  { name: 'statement', path: '/statement', v2: 'statements-v2', mode: 'canary', weight: 100 },
  { name: 'statement-pdf', path: '/statement-pdf', v2: 'statements-v2', mode: 'canary', weight: 100 },
  { name: 'wallet', path: '/wallet', v2: 'wallets-v2', mode: 'canary', weight: 100 },
];

export function servicesYaml(o: { legacy: string; v2: Record<V2Service, string>; state: string; local: string; routes: ServiceRoute[]; extra?: string }): string {
  return `upstreams:
  legacy: ${o.legacy}
${V2_SERVICES.map((s) => `  ${s}: ${o.v2[s]}`).join('\n')}
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: ${o.state}
adminToken: ${TOKEN}
localState: ${o.local}
${o.extra ?? ''}
defaultRoute: { v2: transactions-v2 }
routes:
${o.routes
  .map((r) => `  - name: ${r.name}\n    match: { method: GET, path: ${r.path} }\n    v2: ${r.v2}\n    mode: ${r.mode}\n    stickyBy: none${r.weight !== undefined ? `\n    weight: ${r.weight}` : ''}`)
  .join('\n')}
`;
}

export interface ServicesFleet {
  dir: string;
  legacy: Origin;
  v2: Record<V2Service, Origin>;
  proxies: RunningProxy[];
  start(slot: number, routes?: ServiceRoute[]): Promise<RunningProxy>;
  /** A cutover.yaml for the CLI (--config), with the replicas' admin planes for break-glass when given. */
  cliConfig(routes?: ServiceRoute[], admins?: string[]): string;
  /** Requests each origin saw for `path` so far. */
  seenAt(path: string): { legacy: number; v2: number };
  close(): Promise<void>;
}

export async function startServicesFleet(state: string, dir = tempDir('cutover-services-')): Promise<ServicesFleet> {
  const legacy = await startOrigin('legacy');
  const v2 = {} as Record<V2Service, Origin>;
  for (const s of V2_SERVICES) v2[s] = await startOrigin(s);
  const urls = Object.fromEntries(V2_SERVICES.map((s) => [s, v2[s].url])) as Record<V2Service, string>;
  const fleet: ServicesFleet = {
    dir,
    legacy,
    v2,
    proxies: [],
    async start(slot, routes = SERVICE_ROUTES) {
      const local = join(dir, `local-${slot}`);
      const config = parseConfigText(servicesYaml({ legacy: legacy.url, v2: urls, state, local, routes }), `services-${slot}.yaml`, {});
      const p = await startProxy({ config, log: { log() {} }, replicaId: `p${slot}`, drainTimeoutMs: 500 });
      fleet.proxies[slot] = p;
      return p;
    },
    cliConfig(routes = SERVICE_ROUTES, admins = []) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `cli-${Math.random().toString(36).slice(2)}.yaml`);
      const extra = admins.length ? `breakGlass:\n  admins: [${admins.join(', ')}]` : '';
      writeFileSync(file, servicesYaml({ legacy: legacy.url, v2: urls, state, local: join(dir, 'cli-local'), routes, extra }));
      return file;
    },
    seenAt(path) {
      const at = (o: Origin) => o.seen.filter((s) => s.url === path).length;
      return { legacy: at(legacy), v2: V2_SERVICES.reduce((n, s) => n + at(v2[s]), 0) };
    },
    async close() {
      await Promise.all(fleet.proxies.filter(Boolean).map((p) => p.close().catch(() => undefined)));
      await legacy.close();
      for (const s of V2_SERVICES) await v2[s].close();
    },
  };
  return fleet;
}

/**
 * Which side served `n` requests to `path` through `proxy`, by the x-cutover-upstream header:
 * today the proxy names the side (`legacy`/`v2`); once every route reaches its own upstream it
 * may name the upstream, so a V2 service's name counts as V2 and `legacy` as legacy either way.
 */
export async function sideServing(proxy: RunningProxy, path: string, n = 10): Promise<{ legacy: number; v2: number }> {
  const out = { legacy: 0, v2: 0 };
  for (let i = 0; i < n; i++) {
    const r = await rawRequest(proxy.dataUrl, { path });
    const side = String(r.headers['x-cutover-upstream'] ?? '');
    if (side === 'legacy') out.legacy++;
    else if (side === 'v2' || (V2_SERVICES as readonly string[]).includes(side)) out.v2++;
  }
  return out;
}
