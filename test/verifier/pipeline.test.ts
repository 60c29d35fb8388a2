import diagnostics from 'node:diagnostics_channel';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { channels } from '../../shared/events.js';
import { VerifierPipeline } from '../../verifier/pipeline.js';
import type { MirroredPair } from '../../shared/pairs.js';
import { startRedis, stopAll, tempDir } from '../helpers/processes.js';
import { makePair } from './helpers.js';

const open: VerifierPipeline[] = [];
function pipeline(opts: ConstructorParameters<typeof VerifierPipeline>[0]): VerifierPipeline {
  const p = new VerifierPipeline(opts);
  open.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});
afterAll(stopAll);

function pairs(n: number, route = 'balance'): MirroredPair[] {
  return Array.from({ length: n }, (_, i) =>
    makePair({ body: { balance: '10.00', i } }, { body: { balance: i % 4 === 0 ? '10.01' : '10.0', i } }, {
      id: `p${i}`,
      route,
      at: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString(),
    }),
  );
}

const config = {
  routes: [
    {
      name: 'balance',
      match: { method: 'GET' as const, path: '/accounts/:id/balance' },
      compare: { ignore: [], decimal: ['/balance'], timestamp: [], unorderedArrays: {}, tolerance: {}, headers: ['content-type'] },
      maxBodyBytes: 1_048_576,
    },
  ],
  defaultRoute: { name: 'default', compare: { ignore: [], decimal: [], timestamp: [], unorderedArrays: {}, tolerance: {}, headers: ['content-type'] }, maxBodyBytes: 1_048_576 },
} as never;

describe('the pipeline as a PairSink', () => {
  it('verifies every accepted pair inline and answers queries by route, path and time', async () => {
    const p = pipeline({ workers: 0, config });
    for (const pair of pairs(40)) expect(p.offer(pair)).toBe(true);
    await p.drain();
    const s = p.stats();
    expect([s.offered, s.accepted, s.verified, s.results.mismatch, s.results.match]).toEqual([40, 40, 40, 10, 30]);
    expect(p.query({ route: 'balance', limit: 5 }).map((v) => v.pairId)).toEqual(['p39', 'p38', 'p37', 'p36', 'p35']);
    const byPath = p.query({ path: '/balance' });
    expect(byPath).toHaveLength(10);
    expect(byPath.every((v) => v.findings[0].path === '/balance')).toBe(true);
    expect(p.query({ since: '2024-05-01T10:00:30Z', path: '/balance' }).map((v) => v.pairId)).toEqual(['p36', 'p32']);
    expect(p.query({ route: 'nope' })).toEqual([]);
    expect(p.snapshot().routes[0]).toMatchObject({ route: 'balance', pairs: 40, mismatch: 10, mismatchRate: 0.25 });
  });

  it('is bounded: refuses and counts what does not fit, never blocks', () => {
    const p = pipeline({ workers: 0, queueSize: 10 });
    const results = pairs(100).map((x) => p.offer(x));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(p.hasRoom()).toBe(false);
    expect(p.stats()).toMatchObject({ offered: 100, accepted: 10, dropped: { queueFull: 90 } });
  });

  it('is bounded in bytes too: large bodies are refused once the byte budget is held, and room comes back as pairs finish', async () => {
    const p = pipeline({ workers: 0, queueBytes: 100_000, config });
    const big = (i: number) => makePair({ body: { balance: '1.00', pad: 'x'.repeat(30_000) } }, { body: { balance: '1.00', pad: 'x'.repeat(30_000) } }, { id: `b${i}`, route: 'balance' });
    const results = [0, 1, 2, 3].map((i) => p.offer(big(i)));
    expect(results).toEqual([true, false, false, false]);
    expect(p.stats()).toMatchObject({ accepted: 1, dropped: { queueFull: 3 } });
    expect(p.stats().heldBytes).toBeGreaterThan(60_000);
    await p.drain();
    expect(p.stats().heldBytes).toBe(0);
    expect(p.offer(big(4))).toBe(true);
  });

  it('counts pairs offered after close', async () => {
    const p = pipeline({ workers: 0 });
    await p.close();
    expect(p.offer(pairs(1)[0])).toBe(false);
    expect(p.stats().dropped.closed).toBe(1);
  });

  it('turns a pair it cannot read into an error verdict, not a crash', async () => {
    const p = pipeline({ workers: 0 });
    p.offer({ id: 'bad', route: 'balance' } as unknown as MirroredPair);
    await p.drain();
    expect(p.stats().results.error).toBe(1);
    expect(p.query()[0]).toMatchObject({ pairId: 'bad', result: 'error' });
  });

  it('publishes every verdict on the diff-recorded channel and to the callback', async () => {
    const seen: unknown[] = [];
    const onMessage = (m: unknown) => seen.push(m);
    diagnostics.subscribe(channels.diffRecorded.name as string, onMessage);
    const called: string[] = [];
    try {
      const p = pipeline({ workers: 0, config, onVerdict: (v) => called.push(v.result) });
      for (const pair of pairs(8)) p.offer(pair);
      await p.drain();
    } finally {
      diagnostics.unsubscribe(channels.diffRecorded.name as string, onMessage);
    }
    expect(seen).toHaveLength(8);
    expect(seen[0]).toEqual({ route: 'balance', result: 'mismatch', traceId: undefined, findings: 1 });
    expect(called.filter((r) => r === 'mismatch')).toHaveLength(2);
  });

  it('diffs in a worker thread with the same verdicts', async () => {
    const p = pipeline({ workers: 1, config });
    for (const pair of pairs(200)) p.offer(pair);
    await p.drain();
    expect(p.stats()).toMatchObject({ verified: 200, results: { mismatch: 50, match: 150 }, dropped: { workerError: 0 } });
    expect(p.query({ path: '/balance', limit: 1 })[0].findings).toEqual([
      { path: '/balance', pointer: '/balance', kind: 'value', legacy: '10.00', v2: '10.01' },
    ]);
  });
});

describe('verdict files', () => {
  it('writes JSONL, rotates at the size cap and keeps only the newest files', async () => {
    const dir = tempDir();
    const p = pipeline({ workers: 0, config, diffDir: dir, diffFileMaxBytes: 4000, diffFileMaxFiles: 3 });
    for (const pair of pairs(300)) p.offer(pair);
    await p.drain();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    expect(files).toContain('verdicts.jsonl');
    for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(4000);
    const lines = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.length).toBeLessThan(300);
    // the newest verdict is in the current file
    expect(readFileSync(join(dir, 'verdicts.jsonl'), 'utf8')).toContain('"pairId":"p299"');
    const s = p.stats();
    expect(s.file!.rotations).toBeGreaterThan(2);
    expect(s.file!.filesDeleted).toBe(s.file!.rotations - 2);
    expect(s.dropped.file).toBe(0);
  });
});

describe('the Redis stream', () => {
  it('adds every verdict with a MAXLEN', async () => {
    const redis = await startRedis();
    const p = pipeline({ workers: 0, config, redisUrl: redis.url, streamKey: 'test:verdicts', streamMaxLen: 100 });
    for (const pair of pairs(1000)) p.offer(pair);
    await p.drain();
    const deadline = Date.now() + 10_000;
    while (p.stats().redis!.added < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const client = new Redis(redis.url);
    try {
      const len = await client.xlen('test:verdicts');
      expect(len).toBeGreaterThanOrEqual(100);
      expect(len).toBeLessThan(400);
      const [[, fields]] = await client.xrevrange('test:verdicts', '+', '-', 'COUNT', 1);
      expect(JSON.parse(fields[1])).toMatchObject({ pairId: 'p999', result: 'match' });
      expect(p.stats().redis).toMatchObject({ added: 1000, errors: 0 });
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });

  it('keeps verdicts in a bounded backlog while Redis is gone, and counts what it never could add', async () => {
    const redis = await startRedis();
    const p = pipeline({ workers: 0, redisUrl: redis.url });
    await redis.stop();
    for (const pair of pairs(20)) p.offer(pair);
    await p.drain();
    expect(p.stats()).toMatchObject({ verified: 20, redis: { backlog: 20, added: 0 }, dropped: { redis: 0 } });
    await p.close();
    expect(p.stats()).toMatchObject({ redis: { backlog: 0 }, dropped: { redis: 20 } });
  });

  it('sends the backlog once Redis is back', async () => {
    const redis = await startRedis();
    const p = pipeline({ workers: 0, redisUrl: redis.url, streamKey: 'test:late' });
    await redis.stop();
    for (const pair of pairs(5)) p.offer(pair);
    await p.drain();
    const again = await startRedis(redis.port);
    try {
      const deadline = Date.now() + 15_000;
      while (p.stats().redis!.added < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(p.stats()).toMatchObject({ redis: { added: 5, backlog: 0 }, dropped: { redis: 0 } });
    } finally {
      await p.close();
      await again.stop();
    }
  });
});
