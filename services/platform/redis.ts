/**
 * The V2 service's Redis client, set up so that Redis trouble never stalls a request:
 * no offline queue (a command while disconnected fails at once), a short command timeout,
 * reconnects in the background. Callers check `redisUsable` and fall back to local state.
 */
import { Redis } from 'ioredis';

/** 100 ms unless CUTOVER_DEMO_REDIS_TIMEOUT_MS says otherwise (tests on a loaded machine raise it). */
export const REDIS_COMMAND_TIMEOUT_MS = commandTimeoutFromEnv(process.env.CUTOVER_DEMO_REDIS_TIMEOUT_MS);

function commandTimeoutFromEnv(raw: string | undefined): number {
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 && n <= 60_000 ? n : 100;
}

export function createRedis(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: false,
  });
  // errors surface as failed commands; the event is only noise here
  client.on('error', () => {});
  return client;
}

export function redisUsable(client: Redis | undefined): client is Redis {
  return client !== undefined && client.status === 'ready';
}

/** Waits for the first connection, at most `ms`; V2 starts either way. */
export function waitReady(client: Redis, ms = 1000): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((res) => {
    const done = (ok: boolean) => {
      clearTimeout(t);
      client.off('ready', onReady);
      res(ok);
    };
    const onReady = () => done(true);
    const t = setTimeout(() => done(false), ms);
    client.on('ready', onReady);
  });
}
