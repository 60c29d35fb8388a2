/**
 * A small fleet for the abort tests: a legacy and a V2 origin, and proxies (real data and admin
 * planes on loopback, each with its own localState folder) on one store; helpers to count who
 * serves a route and to poll a condition with a generous bound.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../shared/config.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, type Origin } from '../proxy/origins.js';

export const TOKEN = 'fleet-admin-token-0123456789';

export interface RouteDef {
  name: string;
  path: string;
  mode: 'legacy' | 'mirror' | 'canary' | 'v2';
  weight?: number;
}

export function fleetYaml(o: { legacy: string; v2: string; state: string; local: string; routes: RouteDef[]; extra?: string }): string {
  return `upstreams: { legacy: ${o.legacy}, v2: ${o.v2} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: ${o.state}
adminToken: ${TOKEN}
localState: ${o.local}
${o.extra ?? ''}
routes:
${o.routes.map((r) => `  - name: ${r.name}\n    match: { method: GET, path: ${r.path} }\n    mode: ${r.mode}\n    stickyBy: none${r.weight !== undefined ? `\n    weight: ${r.weight}` : ''}`).join('\n')}
`;
}

export interface Fleet {
  dir: string;
  legacy: Origin;
  v2: Origin;
  proxies: RunningProxy[];
  /** Local folders, one per proxy slot (kept over a restart of that slot). */
  locals: string[];
  start(slot: number, routes: RouteDef[], opts?: { waitForState?: boolean; extra?: string }): Promise<RunningProxy>;
  /** A config file for the CLI (--config) naming the store and, with admins, the replicas' admin planes. */
  cliConfig(routes: RouteDef[], admins?: string[]): string;
  close(): Promise<void>;
}

export async function startFleet(state: string, dir = tempDir('cutover-fleet-')): Promise<Fleet> {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2');
  const fleet: Fleet = {
    dir,
    legacy,
    v2,
    proxies: [],
    locals: [],
    async start(slot, routes, opts = {}) {
      const local = (fleet.locals[slot] ??= join(dir, `local-${slot}`));
      const config = parseConfigText(fleetYaml({ legacy: legacy.url, v2: v2.url, state, local, routes, extra: opts.extra }), `fleet-${slot}.yaml`, {});
      const p = await startProxy({ config, log: { log() {} }, replicaId: `p${slot}`, waitForState: opts.waitForState, drainTimeoutMs: 500 });
      fleet.proxies[slot] = p;
      return p;
    },
    cliConfig(routes, admins = []) {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `cli-${Math.random().toString(36).slice(2)}.yaml`);
      const extra = admins.length ? `breakGlass:\n  admins: [${admins.join(', ')}]` : '';
      writeFileSync(file, fleetYaml({ legacy: legacy.url, v2: v2.url, state, local: join(dir, 'cli-local'), routes, extra }));
      return file;
    },
    async close() {
      await Promise.all(fleet.proxies.filter(Boolean).map((p) => p.close().catch(() => undefined)));
      await legacy.close();
      await v2.close();
    },
  };
  return fleet;
}

/** Who served `n` requests to `path` through `proxy`: counts per x-cutover-upstream. */
export async function servedBy(proxy: RunningProxy, path: string, n = 20): Promise<{ legacy: number; v2: number }> {
  const out = { legacy: 0, v2: 0 };
  for (let i = 0; i < n; i++) {
    const r = await rawRequest(proxy.dataUrl, { path });
    const side = r.headers['x-cutover-upstream'];
    if (side === 'v2') out.v2++;
    else if (side === 'legacy') out.legacy++;
  }
  return out;
}

/** Polls `check` until it returns a truthy value (returned) or `timeoutMs` passes (throws, with the last value). */
export async function eventually<T>(check: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function adminJson(proxy: RunningProxy, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(proxy.adminUrl + path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
