/**
 * ioredis stops for good (status `end`) when a connect attempt itself fails, as a Sentinel
 * client can during a failover on a loaded machine. The verdict stream and the state store
 * must open such a connection again rather than wait on it forever. The test ends the
 * connection the way ioredis leaves it and checks that work resumes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisVerdictStream } from '../../verifier/sink-redis.js';
import { RedisStateStore } from '../../shared/state/redis-store.js';
import { startRedis, stopAll } from '../helpers/processes.js';

afterAll(stopAll);

async function eventually(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a Redis connection ioredis gave up on', () => {
  it('the verdict stream opens it again and writes the lines that waited', async () => {
    const redis = await startRedis();
    const stream = new RedisVerdictStream({ url: redis.url, key: 'v' });
    try {
      stream.writeLine('{"a":1}');
      await eventually(() => stream.added === 1, 'the first line');
      const client = (stream as unknown as { redis: Redis }).redis;
      const ended = new Promise((r) => client.once('end', r));
      client.disconnect();
      await ended;
      stream.writeLine('{"a":2}');
      await eventually(() => stream.added === 2, 'the line written after the connection came back');
      expect(stream.connection).toBe('ready');
    } finally {
      await stream.close();
    }
  });

  it('the state store opens it again on its next call', async () => {
    const redis = await startRedis();
    const store = new RedisStateStore(redis.url);
    try {
      expect(await store.read()).toBeUndefined();
      const client = (store as unknown as { client: Redis }).client;
      const ended = new Promise((r) => client.once('end', r));
      client.disconnect();
      await ended;
      expect(client.status).toBe('end');
      await eventually(async () => {
        try {
          await store.read();
          return true;
        } catch {
          return false;
        }
      }, 'a read once the store reconnected');
      expect(client.status).toBe('ready');
    } finally {
      await store.close();
    }
  });
});
