/**
 * Redis Sentinel for tests: one master, one replica and three sentinels, each its own process
 * on a free loopback port (nothing persisted), started through processes.ts so stopAll()
 * stops them by PID. The sentinels run `redis-sentinel`, or `redis-server --sentinel` where
 * only the server is installed.
 */
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, tempDir, track, type RedisHandle, type Spawned } from './processes.js';

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** How to start a sentinel: [binary, ...leading args]. */
export function sentinelCommand(): [string, ...string[]] {
  if (onPath('redis-sentinel')) return ['redis-sentinel'];
  if (onPath('redis-server')) return ['redis-server', '--sentinel'];
  throw new Error('neither redis-sentinel nor redis-server is installed (apt-get install redis-sentinel, or run .ci/run)');
}

export const MASTER_NAME = 'cutover-test';

export interface SentinelCluster {
  master: RedisHandle;
  replica: { port: number; proc: Spawned };
  sentinels: Array<{ port: number; proc: Spawned }>;
  /** redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/NAME/0 */
  url: string;
  /** The master's port as the sentinels name it now. */
  masterPort(): Promise<number>;
  killMaster(): Promise<void>;
  /** Resolves once the sentinels name the replica as the master (bounded). */
  waitForPromotion(timeoutMs?: number): Promise<void>;
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function until(what: string, timeoutMs: number, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startSentinelCluster(): Promise<SentinelCluster> {
  const dir = tempDir('cutover-sentinel-');
  const master = await startRedis();
  const replicaPort = await freePort();
  const replica = track(
    spawn('redis-server', ['--port', String(replicaPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--replicaof', '127.0.0.1', String(master.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  await replica.waitForOutput(/MASTER <-> REPLICA sync: (Finished with success|Master accepted a Partial Resynchronization)/, 15_000);
  const [bin, ...lead] = sentinelCommand();
  const sentinels: SentinelCluster['sentinels'] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      `port ${port}
bind 127.0.0.1
protected-mode no
dir ${dir}
sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2
sentinel down-after-milliseconds ${MASTER_NAME} 1000
sentinel failover-timeout ${MASTER_NAME} 4000
sentinel parallel-syncs ${MASTER_NAME} 1
`,
    );
    const proc = track(spawn(bin, [...lead.length ? [conf, ...lead] : [conf]], { stdio: ['ignore', 'pipe', 'pipe'] }));
    sentinels.push({ port, proc });
  }
  // A failover needs each sentinel to know the replica and the two other sentinels.
  for (const s of sentinels) {
    await until(`sentinel ${s.port} to see the replica and its peers`, 30_000, () =>
      ask(s.port, async (r) => {
        const replicas = (await r.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
        const peers = (await r.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
        return replicas.length === 1 && peers.length === 2;
      }),
    );
  }
  const masterPort = () => ask(sentinels[0].port, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1]));
  return {
    master,
    replica: { port: replicaPort, proc: replica },
    sentinels,
    url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${MASTER_NAME}/0`,
    masterPort,
    killMaster: () => master.stop(),
    async waitForPromotion(timeoutMs = 30_000) {
      await until('the sentinels to promote the replica', timeoutMs, async () => {
        const ports = await Promise.all(sentinels.map((s) => ask(s.port, async (r) => Number(((await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1]))));
        if (!ports.every((p) => p === replicaPort)) return false;
        return ask(replicaPort, async (r) => ((await r.call('ROLE')) as string[])[0] === 'master');
      });
    },
  };
}
