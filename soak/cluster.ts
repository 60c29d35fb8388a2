/**
 * The processes the soak suite runs: a private Redis, legacy, V2 and a noise legacy replica
 * (each its own `cutover services --only` process so it can be stopped, hung and restarted),
 * and three `cutover proxy` replicas on the one Redis. Everything started here is stopped by
 * PID in `stop()`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnCutover, startRedis, tempDir, waitForHttp, type RedisHandle, type Spawned } from '../test/helpers/processes.js';
import { spawnGarbageServer, type GarbageMode } from './garbage.js';

export const ADMIN_TOKEN = 'soak-admin-token-0123456789';
export const API_KEY = 'demo-key-full';
export const REPLICA_COUNT = 3;

export interface ProxyReplica {
  id: string;
  dataPort: number;
  adminPort: number;
  dataUrl: string;
  adminUrl: string;
  configFile: string;
  proc?: Spawned;
}

export interface ServiceProc {
  name: 'legacy' | 'v2' | 'legacyReplica';
  port: number;
  url: string;
  proc?: Spawned;
}

/** The soak routes: reads and POSTs in mirror mode, two canary read routes with fallbackToLegacy. */
export function soakConfigYaml(o: { legacy: string; v2: string; replica: string; redisUrl: string; id: string; dataPort: number; adminPort: number; localState?: string }): string {
  return `upstreams: { legacy: ${o.legacy}, v2: ${o.v2}, legacyReplica: ${o.replica} }
listen: { data: 127.0.0.1:${o.dataPort}, admin: 127.0.0.1:${o.adminPort} }
state: ${o.redisUrl}
adminToken: ${ADMIN_TOKEN}
replicaId: ${o.id}
${o.localState ? `localState: ${o.localState}\n` : ''}verifier: { noise: { replicaSample: 20 } }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    stickyBy: param:accountId
    mirror: { timeoutMs: 1000 }
    compare: { ignore: [/asOf, /requestId, /schemaVersion, /links], decimal: [/balance, /available, /holds/*/amount], timestamp: [/holds/*/createdAt, /holds/*/expiresAt], unorderedArrays: { /holds: id } }
  - name: transactions
    match: { method: GET, path: /accounts/:accountId/transactions }
    mode: mirror
    stickyBy: param:accountId
    mirror: { timeoutMs: 1000 }
    compare: { ignore: [/requestId, /schemaVersion, /links], decimal: [/transactions/*/amount], timestamp: [/transactions/*/postedAt] }
  - name: post-transaction
    match: { method: POST, path: /transactions }
    mode: mirror
    mirror: { timeoutMs: 1000 }
  - name: member
    match: { method: GET, path: /members/:memberId }
    mode: canary
    weight: 50
    stickyBy: param:memberId
    fallbackToLegacy: true
    timeoutMs: 1500
    compare: { ignore: [/requestId, /schemaVersion, /links], timestamp: [/joinedAt] }
  - name: wallet
    match: { method: GET, path: /wallets/:walletId }
    mode: canary
    weight: 50
    stickyBy: param:walletId
    fallbackToLegacy: true
    timeoutMs: 1500
    compare: { ignore: [/requestId, /schemaVersion, /links], decimal: [/balances/*/amount], timestamp: [/createdAt], unorderedArrays: { /balances: currency } }
defaultRoute:
  mode: legacy
`;
}

export const MIRROR_ROUTES = ['balance', 'transactions', 'post-transaction'] as const;
export const CANARY_ROUTES = ['member', 'wallet'] as const;

export class SoakCluster {
  readonly dir = tempDir('cutover-soak-');
  redis!: RedisHandle;
  redisPort = 0;
  legacy!: ServiceProc;
  v2!: ServiceProc;
  replica!: ServiceProc;
  proxies: ProxyReplica[] = [];
  garbage?: Spawned;
  /** pid -> label, for every process ever started (RSS sampling). */
  readonly labels = new Map<number, string>();

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}/0`;
  }

  async start(): Promise<void> {
    this.redisPort = await freePort();
    this.redis = await startRedis(this.redisPort);
    this.labels.set(this.redis.proc.pid, 'redis');
    const [lp, vp, rp] = [await freePort(), await freePort(), await freePort()];
    this.legacy = { name: 'legacy', port: lp, url: `http://127.0.0.1:${lp}` };
    this.v2 = { name: 'v2', port: vp, url: `http://127.0.0.1:${vp}` };
    this.replica = { name: 'legacyReplica', port: rp, url: `http://127.0.0.1:${rp}` };
    await Promise.all([this.startService(this.legacy), this.startService(this.v2), this.startService(this.replica)]);
    for (let i = 0; i < REPLICA_COUNT; i++) {
      const dataPort = await freePort();
      const adminPort = await freePort();
      const id = `soak-${i + 1}`;
      const configFile = join(this.dir, `${id}.yaml`);
      writeFileSync(
        configFile,
        soakConfigYaml({
          legacy: this.legacy.url,
          v2: this.v2.url,
          replica: this.replica.url,
          redisUrl: this.redisUrl,
          id,
          dataPort,
          adminPort,
          // each replica's own folder in this run's directory: nothing carries over to the next run
          localState: join(this.dir, `${id}-local`),
        }),
      );
      this.proxies.push({ id, dataPort, adminPort, dataUrl: `http://127.0.0.1:${dataPort}`, adminUrl: `http://127.0.0.1:${adminPort}`, configFile });
    }
    // The first replica seeds the store; the others then load it.
    await this.startProxy(this.proxies[0]);
    await Promise.all(this.proxies.slice(1).map((p) => this.startProxy(p)));
  }

  async startService(s: ServiceProc): Promise<void> {
    const only = s.name === 'v2' ? 'v2' : 'legacy';
    const portFlag = only === 'v2' ? '--v2-port' : '--legacy-port';
    const proc = spawnCutover(['services', '--only', only, portFlag, String(s.port), '--seed', '42']);
    s.proc = proc;
    this.labels.set(proc.pid, s.name);
    await proc.waitForOutput(/listening on/, 30_000);
    await waitForHttp(`${s.url}/healthz`, 10_000);
  }

  async stopService(s: ServiceProc, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await s.proc?.stop(signal);
    s.proc = undefined;
  }

  async startProxy(p: ProxyReplica): Promise<void> {
    const proc = spawnCutover(['proxy', '--config', p.configFile]);
    p.proc = proc;
    this.labels.set(proc.pid, `proxy ${p.id}`);
    await proc.waitForOutput(/ready: rollout state version/, 30_000);
  }

  async killProxy(p: ProxyReplica): Promise<void> {
    await p.proc?.stop('SIGKILL');
    p.proc = undefined;
  }

  /** V2 keeps its port; something else answers there in its place. */
  async startGarbage(mode: GarbageMode): Promise<void> {
    this.garbage = spawnGarbageServer(this.v2.port, mode);
    this.labels.set(this.garbage.pid, `garbage v2 (${mode})`);
    await this.garbage.waitForOutput(/garbage listening/, 15_000);
  }

  async stopGarbage(): Promise<void> {
    await this.garbage?.stop('SIGTERM');
    this.garbage = undefined;
  }

  async killRedis(): Promise<void> {
    await this.redis.stop();
  }

  async restartRedisEmpty(): Promise<void> {
    this.redis = await startRedis(this.redisPort);
    this.labels.set(this.redis.proc.pid, 'redis');
  }

  /** The live processes with their labels (RSS sampling). */
  live(): Array<{ label: string; pid: number }> {
    const out: Array<{ label: string; pid: number }> = [];
    const add = (label: string, proc: Spawned | undefined) => {
      if (proc && proc.child.exitCode === null && proc.child.signalCode === null) out.push({ label, pid: proc.pid });
    };
    add('redis', this.redis?.proc);
    add('legacy', this.legacy?.proc);
    add('v2', this.v2?.proc);
    add('legacyReplica', this.replica?.proc);
    for (const p of this.proxies) add(`proxy ${p.id}`, p.proc);
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.proc?.stop('SIGTERM')));
    await this.garbage?.stop('SIGKILL');
    await Promise.all([this.legacy, this.v2, this.replica].map((s) => s?.proc?.stop('SIGTERM')));
    await this.redis?.stop();
  }
}
