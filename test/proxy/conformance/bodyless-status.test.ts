/**
 * Every legal answer is forwarded: 1xx are interim (the final answer follows), 204 and 304 never carry a body, whatever the origin's
 * framing says. An origin answering 304 with `Content-Length: 1234` (RFC 9110 §8.6 allows it)
 * or 204 with a stray length and body must reach the client as that status, with no body, on a
 * connection that keeps working; it is no failure of the client's request nor of the upstream.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestProxy, waitFor, type ProxyFixture } from '../origins.js';
import { RawClient, startRawOrigin, type RawOrigin } from '../raw-socket.js';

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: canary
    match: { method: GET, path: /c/:what }
    mode: canary
    weight: 100
  - name: mirror
    match: { method: GET, path: /m/:what }
    mode: mirror
`;

/** Answers by the last path segment: etag -> 304 + length, nocontent -> 204 + length + body, else 200. */
function answer(name: string) {
  return (head: string, sock: net.Socket) => {
    const path = head.split(' ')[1] ?? '';
    if (path.endsWith('/etag')) {
      sock.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\nCache-Control: max-age=60\r\n\r\n');
    } else if (path.endsWith('/hints')) {
      sock.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok');
    } else if (path.endsWith('/nocontent')) {
      sock.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-Origin: ' + name + '\r\n\r\nhello');
    } else {
      const body = JSON.stringify({ served: name });
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    }
  };
}

interface Served {
  requests: number;
  s2xx: number;
  s3xx: number;
  s5xx: number;
  midstream: number;
}
async function routeStats(fx: ProxyFixture, route: string) {
  const s = await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json();
  return s.routes[route] as { served: { legacy: Served; v2: Served }; shadow: { sent: number; errors: number; timeouts: number } };
}

describe('body-less statuses with stray framing', () => {
  let legacy: RawOrigin;
  let v2: RawOrigin;
  let fx: ProxyFixture;

  async function setup() {
    legacy = await startRawOrigin(answer('legacy'));
    v2 = await startRawOrigin(answer('v2'));
    open.push(legacy, v2);
    fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES);
    open.push(fx);
  }

  for (const [route, prefix, side] of [
    ['canary', '/c', 'v2'],
    ['mirror', '/m', 'legacy'],
  ] as const) {
    it(`on a ${route} route: 304 with Content-Length and 204 with a length and body arrive as the status, no body, and the connection keeps working`, async () => {
      await setup();
      const c = await RawClient.connect(fx.proxy.dataUrl);
      open.push({ close: () => c.close() });

      c.write(`GET ${prefix}/etag HTTP/1.1\r\nHost: proxy\r\nIf-None-Match: "v1"\r\n\r\n`);
      const notModified = await c.response();
      expect(notModified.status).toBe(304);
      expect(notModified.headers.etag).toBe('"v1"');
      expect(notModified.headers['x-cutover-upstream']).toBe(side);
      expect(notModified.body).toBe('');

      c.write(`GET ${prefix}/nocontent HTTP/1.1\r\nHost: proxy\r\n\r\n`);
      const noContent = await c.response();
      expect(noContent.status).toBe(204);
      expect(noContent.headers['content-length']).toBeUndefined();
      expect(noContent.body).toBe('');

      // An interim 103 is not the answer: the final 200 is, whole.
      c.write(`GET ${prefix}/hints HTTP/1.1\r\nHost: proxy\r\n\r\n`);
      const hinted = await c.response();
      expect(hinted.status).toBe(200);
      expect(hinted.body).toBe('ok');

      // Same connection: nothing of the stray body leaked into it, and it still serves.
      c.write(`GET ${prefix}/plain HTTP/1.1\r\nHost: proxy\r\n\r\n`);
      const plain = await c.response();
      expect(plain.status).toBe(200);
      expect(JSON.parse(plain.body).served).toBe(side);
      expect(c.closed).toBe(false);
      expect(c.pending).toBe('');

      const s = await routeStats(fx, route);
      expect(s.served[side]).toMatchObject({ requests: 4, s2xx: 3, s3xx: 1, s5xx: 0, midstream: 0 });
      if (route === 'mirror') {
        // V2's copies got the same answers: answered, never counted as V2 errors.
        await waitFor(() => v2.heads.length === 4, 10_000);
        await waitFor(() => fx.proxy.pairCounts().offered === 4, 10_000);
        const after = await routeStats(fx, route);
        expect(after.shadow).toMatchObject({ sent: 4, errors: 0, timeouts: 0 });
      }
      const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
      // Counted as the origin's protocol oddity (both answers had a stray non-zero length), never as a failure.
      expect(metrics).toMatch(/^cutover_upstream_bodyless_framing_total 2$/m);
      expect(metrics).not.toMatch(new RegExp(`cutover_upstream_failures_total\\{route="${route}",upstream="${side}",kind="[a-z]+"\\} [1-9]`));
    });
  }
});
