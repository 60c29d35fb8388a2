/**
 * `record:` keeps unsafe requests (marked, bodies redacted by the same rules) so that
 * `verify --replay --allow-unsafe` can send them on purpose: a POST that is never mirrored is
 * recorded with its body and Idempotency-Key, skipped by a replay without --allow-unsafe, and
 * replayed to both sides with it. A body too large to keep is marked and never replayed
 * (recorded bodies are kept up to the larger of limits.bufferBodyBytes and the route's
 * mirror.maxRequestBodyBytes: 0 and 100 bytes here).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { toRecordedRequest } from '../../verifier/input.js';
import { Redactor } from '../../verifier/redact.js';
import { replay } from '../../verifier/replay.js';
import type { RecordedRequest } from '../../verifier/types.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, startTestProxy } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: payments
    match: { method: POST, path: /payments }
    mode: legacy
    mirror: { maxRequestBodyBytes: 100 }
`;

async function* each(reqs: RecordedRequest[]): AsyncGenerator<RecordedRequest> {
  for (const r of reqs) yield r;
}

describe('recording unsafe requests for a deliberate replay', () => {
  it('records a POST it does not mirror, with its Idempotency-Key, and replays it only with allowUnsafe', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const file = `${tempDir()}/requests.jsonl`;
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml: `record: { file: ${file} }\nlimits: { bufferBodyBytes: 0 }` });
    const body = JSON.stringify({ amount: '12.30', account: 'A-1' });
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/payments', headers: { 'content-type': 'application/json', 'idempotency-key': 'IK-77' }, body });
    expect(r.status).toBe(200);
    const big = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/payments', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ memo: 'x'.repeat(500) }) });
    expect(big.status).toBe(200);
    // legacy got both bodies whole, buffered or not
    expect(legacy.seen.map((s) => s.body.length)).toEqual([body.length, JSON.stringify({ memo: 'x'.repeat(500) }).length]);
    expect(v2.seen).toHaveLength(0);
    await fx.close();

    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ method: 'POST', unsafe: true, body, route: 'payments' });
    expect(lines[0]!.bodyRedacted).toBeUndefined();
    expect((lines[0]!.headers as Record<string, string>)['idempotency-key']).toBe('IK-77');
    expect(lines[1]).toMatchObject({ method: 'POST', unsafe: true, bodyOmitted: true });
    expect(lines[1]!.body).toBeUndefined();
    const recorded = lines.map((l, i) => toRecordedRequest(l, file, i + 1));

    const opts = {
      legacy: legacy.url,
      v2: v2.url,
      concurrency: 1,
      match: () => 'payments',
      redactor: new Redactor(),
      timeoutMsFor: () => 10_000,
      maxBodyBytesFor: () => 1_048_576,
      onPair: () => undefined,
    };
    const seenBefore = legacy.seen.length;
    const skipped = await replay(each(recorded), { ...opts, allowUnsafe: false });
    expect(skipped).toEqual({ sent: 0, skippedUnsafe: 2, skippedIncomplete: 0 });
    expect(legacy.seen.length).toBe(seenBefore);

    const sent = await replay(each(recorded), { ...opts, allowUnsafe: true });
    expect(sent).toEqual({ sent: 1, skippedUnsafe: 0, skippedIncomplete: 1 });
    for (const origin of [legacy, v2]) {
      const last = origin.seen[origin.seen.length - 1]!;
      expect([origin.name, last.method, last.body, last.headers['idempotency-key']]).toEqual([origin.name, 'POST', body, 'IK-77']);
    }
  }, 60_000);
});
