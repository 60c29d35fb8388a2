/**
 * Regression (found by the soak suite): V2 answering mirror copies with 10 MB bodies kept the
 * proxy's event loop reading bytes that are never diffed, and mirror clients waited seconds.
 * A copy's body past the route's maxBodyBytes is no longer read: the pair is "too large",
 * the copy still counts as answered, and no byte of it delays a client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MirroredPair, PairSink } from '../../shared/pairs.js';
import { rawRequest, startOrigin, startTestProxy, waitFor, type ProxyFixture } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const TEN_MB = Buffer.alloc(10 * 1024 * 1024, 'x');

describe('a mirror copy answered with a body far over maxBodyBytes', () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    it(`is cut short (${framing}), counted as answered and paired as truncated`, async () => {
      const legacy = await startOrigin('legacy');
      const v2 = await startOrigin('v2');
      open.push(legacy, v2);
      let v2BytesWritten = 0;
      v2.respond = (_req, res) => {
        res.writeHead(200, framing === 'content-length' ? { 'content-type': 'application/json', 'content-length': TEN_MB.length } : { 'content-type': 'application/json' });
        // Written in 64 KB pieces so a reader that stops early leaves most of them unsent.
        let off = 0;
        const pump = () => {
          while (off < TEN_MB.length) {
            const piece = TEN_MB.subarray(off, off + 65536);
            off += piece.length;
            v2BytesWritten += piece.length;
            if (!res.write(piece)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (off = TEN_MB.length + 1));
        pump();
      };
      const pairs: MirroredPair[] = [];
      const sink: PairSink = { offer: (p) => (pairs.push(p), true) };
      const fx: ProxyFixture = await startTestProxy(
        { legacy: legacy.url, v2: v2.url },
        `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    maxBodyBytes: 4096
    mirror: { timeoutMs: 5000 }
`,
        { opts: { pairSink: sink } },
      );
      open.push(fx);

      for (let i = 0; i < 5; i++) {
        const r = await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` });
        expect(r.status).toBe(200);
        expect(JSON.parse(r.body.toString()).served).toBe('legacy');
      }
      await waitFor(() => pairs.length === 5, 5000);
      for (const p of pairs) {
        expect(p.v2.status).toBe(200);
        expect(p.v2.truncated).toBe(true);
        expect(p.v2.error).toBeUndefined();
        expect(p.v2.body.length).toBeLessThanOrEqual(4096);
      }
      const shadow = (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()).routes.balance.shadow;
      expect(shadow).toMatchObject({ sent: 5, errors: 0, timeouts: 0 });
      // The proxy stopped reading: V2 could not push all 50 MB into the connections.
      expect(v2BytesWritten).toBeLessThan(5 * TEN_MB.length);
    });
  }
});
