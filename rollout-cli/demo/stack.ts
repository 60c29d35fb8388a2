/**
 * What the demo runs: legacy and the V2 services by concern, each its own process (one ledger
 * shared through this one), and in this process one proxy on the demo config (with the
 * verifier it owns) and the load. Default ports when they are free, free ones otherwise. `stop()` closes everything it started, in reverse order, and is safe
 * to call twice or after a partial start.
 */
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServiceProcesses, accountId, walletId, DEFAULT_LEGACY_PORT, DEFAULT_V2_PORT, WALLET_COUNT, type RunningServiceProcesses } from '../../services/index.js';
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
  services: RunningServiceProcesses;
  proxy: RunningProxy;
  config: Readonly<CutoverConfig>;
  configFile: string;
  adminToken: string;
  /** Every port it listens on: each service's by name, the proxy's data and admin. */
  ports: Record<string, number>;
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

async function startDemoServices(freePorts: boolean): Promise<RunningServiceProcesses> {
  // Account histories are generated on first use; each service does it for the read and
  // posting accounts before it reports ready, which keeps that cost out of the first step's figures.
  const common = { host: '127.0.0.1', warmAccounts: READ_ACCOUNTS + POST_ACCOUNTS };
  if (freePorts) return startServiceProcesses({ ...common, legacyPort: 0, v2Port: 0 });
  try {
    return await startServiceProcesses({ ...common, legacyPort: DEFAULT_LEGACY_PORT, v2Port: DEFAULT_V2_PORT });
  } catch {
    return startServiceProcesses({ ...common, legacyPort: 0, v2Port: 0 });
  }
}

/** `freePorts`: ports the system picks, not the defaults (4001, 4002-4005, 8080, 8081). */
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
      demoConfigText({
        legacyUrl: services.byName('legacy').url,
        v2Urls: Object.fromEntries(services.services.filter((x) => x.kind === 'v2').map((x) => [x.name, x.url])),
        data: `127.0.0.1:${data}`, admin: `127.0.0.1:${admin}`, stateUrl: o.stateUrl, adminToken }),
    );
    const config = loadConfig(configFile);
    const proxy = await startProxy({ config, log: createProxyLogger({ level: 'error' }), drainTimeoutMs: 2000 });
    closers.push(() => proxy.close());
    await proxy.ready;
    const reads = Array.from({ length: READ_ACCOUNTS }, (_, i) => accountId(i + 1));
    // only wallets of read accounts: a wallet read racing a posting would be a real difference
    const wallets = Array.from({ length: WALLET_COUNT }, (_, i) => walletId(i + 1)).filter((id) =>
      services.ledger.data.wallets.get(id)!.accountIds.every((a) => services.ledger.account(a).num <= READ_ACCOUNTS),
    );
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
      ports: { ...Object.fromEntries(services.services.map((x) => [x.name, x.port])), data, admin },
      startLoad(rps: number) {
        const load = startLoad({ url: proxy.dataUrl, rps, accounts: reads, wallets, postAccounts: posts, apiKeys: ['demo-key-full', 'demo-key-readonly'] });
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
