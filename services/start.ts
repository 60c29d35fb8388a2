/**
 * Starting the demo services in process: both on one shared ledger (as two implementations
 * of one system share one database), or one of them alone. Port 0 picks a free port; the
 * returned url carries the real one.
 */
import type { AddressInfo } from 'node:net';
import { CutoverError } from '../shared/errors.js';
import { SVC_ERR } from './errors.js';
import { Ledger, type ServiceName } from './data/ledger.js';
import { createLegacyApp, type ServiceApp } from './legacy-app.js';
import { createV2App, type V2AppOptions, type V2ServiceApp } from './v2-app.js';
import { serviceNamed, SERVICE_NAMES } from './catalogue.js';
import type { PostingWriter } from './data/ledger.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LEGACY_PORT = 4001;
export const DEFAULT_V2_PORT = 4002;
export const DEFAULT_SEED = 42;

export interface StartServicesOptions {
  host?: string;
  legacyPort?: number;
  v2Port?: number;
  seed?: number;
  /** Redis for V2's shared rate limits and hierarchy cache; in-process when absent. */
  redisUrl?: string;
  /** Initial fault knobs per service, e.g. `{ v2: { wrongBalanceShare: 0.1 } }`. */
  faults?: { legacy?: Record<string, unknown>; v2?: Record<string, unknown> };
  hierarchyQueryDelayMs?: number;
  /** V2 options passed through (apiKeys, requireApiKey, apiKeyRefreshMs, cacheTtlMs). */
  v2?: Pick<V2AppOptions, 'apiKeys' | 'requireApiKey' | 'apiKeyRefreshMs' | 'cacheTtlMs'>;
}

export interface RunningService<A extends ServiceApp = ServiceApp> {
  /** `legacy`, `v2`, or a V2 service by concern such as `statements-v2`. */
  name: string;
  url: string;
  port: number;
  service: A;
  close(): Promise<void>;
}

export interface RunningServices {
  legacy: RunningService;
  v2: RunningService<V2ServiceApp>;
  ledger: Ledger;
  close(): Promise<void>;
}

/** Listens on host:port; a port in use or a bad host is a CutoverError naming `flag` and what to do. */
export async function listen<A extends ServiceApp>(name: string, service: A, host: string, port: number, flag = name === 'legacy' ? '--legacy-port' : '--v2-port'): Promise<RunningService<A>> {
  try {
    await service.app.listen({ host, port });
  } catch (err) {
    await service.app.close().catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `${host}:${port} is already in use (stop what holds it, or pick another port with ${flag}; 0 picks a free one)`
        : code === 'EADDRNOTAVAIL'
          ? `${host} is not an address of this machine (check --host)`
          : (err as Error).message;
    throw new CutoverError(SVC_ERR.START, `${name} could not listen: ${why}`, { exitCode: 1, cause: err });
  }
  const addr = service.app.server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    name,
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    service,
    close: () => service.app.close(),
  };
}

/**
 * Starts one service in this process, on its own ledger unless one is given: `legacy`, `v2`
 * (every endpoint) or a V2 service by concern (`statements-v2`: only its endpoints).
 * Legacy listens on legacyPort, any V2 on v2Port.
 */
export async function startService(
  name: ServiceName | string,
  opts: StartServicesOptions & { ledger?: Ledger; writer?: PostingWriter; faultsOf?: Record<string, unknown> } = {},
): Promise<RunningService> {
  const def = serviceNamed(name);
  if (!def) throw new CutoverError(SVC_ERR.START, `no service ${name} (services: ${SERVICE_NAMES.join(', ')})`, { exitCode: 2 });
  const host = opts.host ?? DEFAULT_HOST;
  const ledger = opts.ledger ?? new Ledger(opts.seed ?? DEFAULT_SEED);
  if (def.kind === 'legacy') {
    const app = createLegacyApp({ ledger, writer: opts.writer, faults: opts.faultsOf ?? opts.faults?.legacy, hierarchyQueryDelayMs: opts.hierarchyQueryDelayMs });
    return listen('legacy', app, host, opts.legacyPort ?? DEFAULT_LEGACY_PORT);
  }
  const app = createV2App({
    ...opts.v2,
    ...(def.name === 'v2' ? {} : { name: def.name, endpoints: def.endpoints }),
    ledger,
    writer: opts.writer,
    faults: opts.faultsOf ?? opts.faults?.v2,
    redis: opts.redisUrl,
    hierarchyQueryDelayMs: opts.hierarchyQueryDelayMs,
  });
  return listen(def.name, app, host, opts.v2Port ?? DEFAULT_V2_PORT);
}

/** Starts legacy and V2 on one shared ledger. */
export async function startServices(opts: StartServicesOptions = {}): Promise<RunningServices> {
  const ledger = new Ledger(opts.seed ?? DEFAULT_SEED);
  const legacy = await startService('legacy', { ...opts, ledger });
  let v2: RunningService<V2ServiceApp>;
  try {
    v2 = (await startService('v2', { ...opts, ledger })) as RunningService<V2ServiceApp>;
  } catch (err) {
    await legacy.close();
    throw err;
  }
  return {
    legacy,
    v2,
    ledger,
    close: async () => {
      await Promise.all([legacy.close(), v2.close()]);
    },
  };
}
