/**
 * `cutover report --state redis://...`: history and waivers from the Redis state store, and the
 * verdicts every replica's verifier wrote to the Redis stream, in one report. Two verdict books
 * stand for two proxy replicas: real verdicts (the verifier's per-pair task and classification)
 * written the way its Redis sink writes them (`XADD cutover:verdicts * v JSON`); a private
 * redis-server holds state and stream.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReportModel } from '../../reports/model.js';
import { main } from '../../rollout-cli/main.js';
import type { MirroredPair } from '../../shared/pairs.js';
import { openStateStore } from '../../shared/state/index.js';
import { Redis } from 'ioredis';
import { VerdictBook } from '../../verifier/book.js';
import { DEFAULT_STREAM_KEY } from '../../verifier/sink-redis.js';
import { routeSettingsFromConfig } from '../../verifier/rules.js';
import { prepareContext, verifyOne } from '../../verifier/task.js';
import { startRedis, stopAll, tempDir, type RedisHandle } from '../helpers/processes.js';

let redis: RedisHandle;
let dir: string;

function pair(i: number, replica: string): MirroredPair {
  const body = (balance: string) => JSON.stringify({ accountId: `a-${i}`, balance });
  return {
    id: `${replica}-${i}`,
    at: new Date(Date.UTC(2026, 10, 23, 10, 0, i)).toISOString(),
    route: 'balance',
    method: 'GET',
    path: `/accounts/a-${i}/balance`,
    requestHeaders: {},
    legacy: { status: 200, headers: { 'content-type': 'application/json' }, body: body('10.00'), latencyMs: 10 },
    // every fourth answer of V2 is a cent off
    v2: { status: 200, headers: { 'content-type': 'application/json' }, body: body(i % 4 === 0 ? '9.99' : '10.00'), latencyMs: 11 },
    traceId: `t-${replica}-${i}`,
  };
}

beforeAll(async () => {
  dir = tempDir('cutover-report-redis-');
  redis = await startRedis();
  const store = openStateStore(redis.url);
  await store.compareAndSet(
    0,
    { schemaVersion: 1, routes: { balance: { mode: 'mirror', weight: 0 } }, paused: false, aborted: false, updatedBy: 'test', updatedAt: '2026-11-23T09:59:00.000Z' },
    { by: 'release@example', action: 'init', reason: 'mirror balance to V2' },
  );
  await store.close();
  // two replicas' verifiers write to the same stream
  const client = new Redis(redis.url);
  const ctx = prepareContext({ routes: routeSettingsFromConfig(undefined) });
  for (const replica of ['r1', 'r2']) {
    const book = new VerdictBook({ source: replica });
    for (let i = 0; i < 20; i++) await client.xadd(DEFAULT_STREAM_KEY, '*', 'v', JSON.stringify(book.add(verifyOne(pair(i, replica), ctx))));
  }
  client.disconnect();
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cutover report --state redis://', () => {
  it('aggregates the verdicts of every replica from the stream, with history from the store', async () => {
    const out = join(dir, 'redis.json');
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['node', 'cutover', 'report', '--state', redis.url, '--format', 'json', '--out', out]);
    } finally {
      o.mockRestore();
    }
    expect(code).toBe(0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
    const b = m.routes.find((r) => r.name === 'balance')!;
    // 2 replicas x 20 pairs; i = 0, 4, 8, 12, 16 differ on each
    expect({ pairs: b.pairs, matching: b.matching, mismatching: b.mismatching }).toEqual({ pairs: 40, matching: 30, mismatching: 10 });
    expect(b.paths.map((p) => [p.path, p.kind, p.count])).toEqual([['/balance', 'value', 10]]);
    expect(b.paths[0]!.examples[0]!.fields).toEqual([{ pointer: '/balance', kind: 'value', legacy: '"10.00"', v2: '"9.99"' }]);
    expect(m.timeline.events.map((e) => [e.action, e.reason])).toEqual([['init', 'mirror balance to V2']]);
    expect(m.sources[0]).toBe(`state ${redis.url} (history, waivers, 40 verdicts from the stream cutover:verdicts)`);
  });
});
