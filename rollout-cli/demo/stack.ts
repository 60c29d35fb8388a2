/**
 * What the demo runs, all in this process: the demo legacy and V2 services, one proxy on the
 * demo config (with the verifier it owns), and the load. Default ports when they are free,
 * free ones otherwise. `stop()` closes everything it started, in reverse order, and is safe
 * to call twice or after a partial start.
 */
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServices, accountId, DEFAULT_LEGACY_PORT, DEFAULT_V2_PORT, type RunningServices } from '../../services/index.js';
import { loadConfig, type CutoverConfig } from '../../shared/config.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { createProxyLogger } from '../../proxy/logging.js';
import { startLoad, type RunningLoad } from './load.js';
import { demoConfigText } from './setup.js';

export const DEFAULT_DATA_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 8081;
/** Reads go to these accounts, postings to the ones after them. */
const READ_ACCOUNTS = 2500;
const POST_ACCOUNTS = 100;

export interface Stack {
  services: RunningServices;
  proxy: RunningProxy;
  config: Readonly<CutoverConfig>;
  configFile: string;
  adminToken: string;
  ports: { legacy: number; v2: number; data: number; admin: number };
  startLoad(rps: number): RunningLoad;
  stop(): Promise<void>;
}

/** `port` when nothing listens on it on 127.0.0.1, else a free one the system picks. */
export async function portOrFree(port: number): Promise<number> {
  const tryListen = (p: number) =>
    new Promise<number | null>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(null));
      s.listen({ host: '127.0.0.1', port: p, exclusive: true }, () => {
        const got = (s.address() as { port: number }).port;
        s.close(() => resolve(got));
      });
    });
  return (await tryListen(port)) ?? (await tryListen(0))!;
}

async function startDemoServices(freePorts: boolean): Promise<RunningServices> {
  if (freePorts) return startServices({ host: '127.0.0.1', legacyPort: 0, v2Port: 0 });
  try {
    return await startServices({ host: '127.0.0.1', legacyPort: DEFAULT_LEGACY_PORT, v2Port: DEFAULT_V2_PORT });
  } catch {
    return startServices({ host: '127.0.0.1', legacyPort: 0, v2Port: 0 });
  }
}

/** `freePorts`: ports the system picks, not the defaults (4001, 4002, 8080, 8081). */
export async function startStack(o: { dir: string; stateUrl: string; freePorts?: boolean }): Promise<Stack> {
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    while (closers.length > 0) await closers.pop()!().catch(() => undefined);
  };
  try {
    const services = await startDemoServices(!!o.freePorts);
    closers.push(() => services.close());
    const data = await portOrFree(o.freePorts ? 0 : DEFAULT_DATA_PORT);
    let admin = await portOrFree(o.freePorts || data === DEFAULT_ADMIN_PORT ? 0 : DEFAULT_ADMIN_PORT);
    while (admin === data) admin = await portOrFree(0);
    const adminToken = randomBytes(12).toString('hex');
    const configFile = join(o.dir, 'cutover.yaml');
    writeFileSync(
      configFile,
      demoConfigText({ legacyUrl: services.legacy.url, v2Url: services.v2.url, data: `127.0.0.1:${data}`, admin: `127.0.0.1:${admin}`, stateUrl: o.stateUrl, adminToken }),
    );
    const config = loadConfig(configFile);
    const proxy = await startProxy({ config, log: createProxyLogger({ level: 'error' }), drainTimeoutMs: 2000 });
    closers.push(() => proxy.close());
    await proxy.ready;
    const reads = Array.from({ length: READ_ACCOUNTS }, (_, i) => accountId(i + 1));
    // Account histories are generated on first use; doing it now keeps that cost out of the
    // first step's latency figures (the services and the proxy share this one thread).
    for (const id of reads) services.ledger.balance(id);
    const posts = Array.from({ length: POST_ACCOUNTS }, (_, i) => {
      const id = accountId(READ_ACCOUNTS + i + 1);
      return { id, currency: services.ledger.account(id).currency };
    });
    return {
      services,
      proxy,
      config,
      configFile,
      adminToken,
      ports: { legacy: services.legacy.port, v2: services.v2.port, data, admin },
      startLoad(rps: number) {
        const load = startLoad({ url: proxy.dataUrl, rps, accounts: reads, postAccounts: posts, apiKeys: ['demo-key-full', 'demo-key-readonly'] });
        closers.push(() => load.stop());
        return load;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
