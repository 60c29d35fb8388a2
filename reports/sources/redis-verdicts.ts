/**
 * Verdicts from the Redis stream the verifier writes when the state store is Redis
 * (`cutover:verdicts`, one `v` field of verdict JSON per entry): the diffs of every proxy
 * replica in one report. Read in pages, aggregated as they come; a second pass keeps only the
 * verdicts behind the examples.
 */
import { Redis } from 'ioredis';
import { redisClientSync } from '../../shared/state/redis-connection.js';
import { Aggregator } from '../../verifier/aggregate.js';
import { DEFAULT_STREAM_KEY } from '../../verifier/sink-redis.js';
import type { AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { reportSourceError } from '../errors.js';

const PAGE = 2_000;
const TIMEOUT_MS = 10_000;

export interface StreamResult {
  aggregate: AggregateSnapshot;
  verdicts: Map<string, Verdict>;
  /** Entries read from the stream. */
  read: number;
  key: string;
}

function parseEntry(fields: string[]): Verdict | undefined {
  const i = fields.indexOf('v');
  if (i < 0) return undefined;
  try {
    const v = JSON.parse(fields[i + 1]!) as Verdict;
    return v && typeof v.pairId === 'string' && typeof v.route === 'string' && Array.isArray(v.findings) ? v : undefined;
  } catch {
    return undefined;
  }
}

async function eachPage(redis: Redis, key: string, start: string, fn: (v: Verdict) => void): Promise<number> {
  let from = start;
  let n = 0;
  for (;;) {
    const page = await redis.xrange(key, from, '+', 'COUNT', PAGE);
    for (const [, fields] of page) {
      const v = parseEntry(fields);
      if (v) fn(v);
      n++;
    }
    if (page.length < PAGE) return n;
    from = `(${page[page.length - 1]![0]}`;
  }
}

export async function readVerdictStream(url: string, opts: { since?: string | null; key?: string; label: string }): Promise<StreamResult> {
  const key = opts.key ?? DEFAULT_STREAM_KEY;
  const sinceMs = opts.since ? Date.parse(opts.since) : undefined;
  // stream ids start with the time the entry was added, a little after the pair's own time
  const start = sinceMs !== undefined ? `${sinceMs}-0` : '-';
  const redis = redisClientSync(Redis, url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: TIMEOUT_MS, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const agg = new Aggregator({ source: `redis stream ${key}`, random: () => 0 });
    const keep = (v: Verdict) => sinceMs === undefined || !(Date.parse(v.at) < sinceMs);
    const read = await eachPage(redis, key, start, (v) => {
      if (keep(v)) agg.record(v);
    });
    const aggregate = agg.snapshot();
    const wanted = new Set<string>();
    for (const r of aggregate.routes) for (const p of r.paths) for (const ex of p.examples) wanted.add(ex.pairId);
    const verdicts = new Map<string, Verdict>();
    if (wanted.size > 0) {
      await eachPage(redis, key, start, (v) => {
        if (wanted.has(v.pairId) && keep(v)) verdicts.set(v.pairId, v);
      });
    }
    return { aggregate, verdicts, read, key };
  } catch (err) {
    throw reportSourceError('--state', `cannot read the verdict stream ${key} at ${opts.label}: ${(err as Error).message}`, err);
  } finally {
    redis.disconnect();
  }
}
