/**
 * Two V2 processes on one Redis (started here on a free port): the per-project token bucket
 * is shared, so the combined rate is limited, not twice the limit; the hierarchy cache is
 * shared too. Then the test kills Redis and V2 keeps answering on local limits and its own
 * cache: never a 5xx because of the limiter or the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCutover, startRedis, stopAll, type RedisHandle, type Spawned } from '../helpers/processes.js';
import { getJson } from './helpers.js';

let redis: RedisHandle;
const procs: Spawned[] = [];
const urls: string[] = [];
const TINY = { 'x-api-key': 'demo-key-tiny' }; // sandbox project: 5 requests/s, burst 5
const FULL = { 'x-api-key': 'demo-key-full' };

beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) {
    // A command timeout no load can reach: the bucket is judged, not the machine's speed.
    const p = spawnCutover(['services', '--only', 'v2', '--v2-port', '0', '--redis', redis.url], { env: { CUTOVER_DEMO_REDIS_TIMEOUT_MS: '10000' } });
    procs.push(p);
  }
  for (const p of procs) {
    const m = await p.waitForOutput(/v2 listening on (http:\/\/\S+)/, 20_000);
    urls.push(m[1]);
  }
  for (const u of urls) {
    const deadline = Date.now() + 30_000;
    while ((await getJson(`${u}/healthz`)).body.redis !== 'up' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await getJson(`${u}/healthz`)).body.redis).toBe('up');
  }
}, 40_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  await stopAll();
});

async function hit(url: string, headers: Record<string, string>, path = '/members/M-000001') {
  const r = await fetch(url + path, { headers });
  await r.arrayBuffer();
  return { status: r.status, source: r.headers.get('x-ratelimit-source'), cache: r.headers.get('x-cache') };
}

describe('V2 rate limit shared through Redis', () => {
  it('two processes share one bucket: the combined allowed count stays within burst + rate x time', async () => {
    expect(urls).toHaveLength(2);
    const t0 = Date.now();
    const results: Array<Awaited<ReturnType<typeof hit>>> = [];
    for (let i = 0; i < 40; i++) {
      results.push(await hit(urls[i % 2], TINY));
      await new Promise((r) => setTimeout(r, 20));
    }
    const elapsedS = (Date.now() - t0) / 1000;
    const allowed = results.filter((r) => r.status === 200).length;
    const limit = 5 + 5 * elapsedS; // one bucket: burst 5, 5 tokens/s
    expect(results.every((r) => r.source === 'redis')).toBe(true);
    expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    // separate buckets per process would allow about twice this
    expect(allowed).toBeLessThanOrEqual(Math.ceil(limit) + 1);
    expect(allowed).toBeGreaterThanOrEqual(5);
    // both processes served some and limited some
    for (const k of [0, 1]) {
      const mine = results.filter((_, i) => i % 2 === k);
      expect(mine.some((r) => r.status === 429)).toBe(true);
    }
  });

  it('the hierarchy cache is shared: what one process computed, the other serves as a hit', async () => {
    const a = await hit(urls[0], FULL, '/hierarchies/H-0002/balance');
    const b = await hit(urls[1], FULL, '/hierarchies/H-0002/balance');
    expect(a.status).toBe(200);
    expect(a.cache).toBe('miss');
    expect(b.cache).toBe('hit');
  });

  it('with Redis killed, V2 keeps answering on local limits and its own cache, never a 5xx', async () => {
    await redis.stop();
    await new Promise((r) => setTimeout(r, 200));
    const full: Array<Awaited<ReturnType<typeof hit>>> = [];
    for (let i = 0; i < 60; i++) full.push(await hit(urls[i % 2], FULL, i % 3 === 0 ? '/hierarchies/H-0003/balance' : '/members/M-000002'));
    expect(full.filter((r) => r.status !== 200)).toEqual([]);
    expect(full.filter((r) => r.source !== null).every((r) => r.source === 'local')).toBe(true);

    const tiny: Array<Awaited<ReturnType<typeof hit>>> = [];
    for (let i = 0; i < 30; i++) tiny.push(await hit(urls[i % 2], TINY));
    expect(tiny.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    const allowedPerProcess = [0, 1].map((k) => tiny.filter((r, i) => i % 2 === k && r.status === 200).length);
    // each process now limits on its own: each allows its own burst
    for (const n of allowedPerProcess) expect(n).toBeGreaterThanOrEqual(5);
    for (const u of urls) {
      const h = (await getJson(`${u}/healthz`)).body;
      expect(h.redis).toBe('down');
    }
  });
});
