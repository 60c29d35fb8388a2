/**
 * Slow clients cannot starve the pool. Bodies up to limits.bufferBodyBytes are read whole before
 * an upstream connection is taken, so clients trickling small bodies hold none; larger (streamed)
 * uploads hold at most limits.uploadShare of an upstream's connections. Ordinary GETs on every
 * route, and small POSTs, keep being answered meanwhile. A body that makes no progress for
 * limits.bodyIdleTimeoutMs gets 408 and its upstream connection (if it had one) is let go.
 * Bounds are generous (many seconds): the assertions are that answers come, not how fast.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UploadGuard } from '../../../proxy/upload-guard.js';
import { rawRequest, startTestProxy, waitFor, type ProxyFixture } from '../origins.js';
import { RawClient } from '../raw-socket.js';

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: uploads
    match: { method: POST, path: /uploads }
    mode: legacy
    timeoutMs: 60000
  - name: shadowed-post
    match: { method: POST, path: /postings }
    mode: mirror
    mirrorUnsafe: true
  - name: members
    match: { method: GET, path: /members/:id }
    mode: mirror
  - name: balance
    match: { method: GET, path: /accounts/:id/balance }
    mode: canary
    weight: 50
`;

/** An origin that reads whole bodies before answering, and reports request sockets that closed before their answer. */
async function countingOrigin(name: string) {
  const sockets = new Set<net.Socket>();
  const state = { name, url: '', abandoned: 0, bodies: 0, openRequests: 0 };
  const server = http.createServer((req, res) => {
    state.openRequests++;
    let answered = false;
    req.on('close', () => {
      state.openRequests--;
      if (!answered && !req.complete) state.abandoned++;
    });
    req.resume();
    req.on('end', () => {
      state.bodies++;
      answered = true;
      const body = JSON.stringify({ served: name, url: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  open.push({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
  return state;
}

async function setup(limits: string): Promise<{ fx: ProxyFixture; legacy: Awaited<ReturnType<typeof countingOrigin>>; v2: Awaited<ReturnType<typeof countingOrigin>> }> {
  const legacy = await countingOrigin('legacy');
  const v2 = await countingOrigin('v2');
  const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml: `limits: ${limits}` });
  open.push(fx);
  return { fx, legacy, v2 };
}

/** A client that sends a POST head declaring `length` bytes, then one byte every `everyMs`. */
async function trickle(base: string, path: string, length: number, everyMs: number): Promise<{ client: RawClient; stop(): void }> {
  const client = await RawClient.connect(base);
  client.write(`POST ${path} HTTP/1.1\r\nHost: bank.example\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);
  let sent = 0;
  const t = setInterval(() => {
    if (sent < length && !client.closed) {
      client.write('x');
      sent++;
    }
  }, everyMs);
  const stop = () => {
    clearInterval(t);
    client.close();
  };
  open.push({ close: stop });
  return { client, stop };
}

async function health(fx: ProxyFixture) {
  return (await (await fetch(`${fx.proxy.adminUrl}/healthz`)).json()) as {
    dataPlane: { bodyTimeouts: number; uploads: { legacy: { active: number; waiting: number } } };
  };
}

type Health = Awaited<ReturnType<typeof health>>;

/** /healthz once `cond` holds (polled, bounded by many seconds); the last one read otherwise. */
async function healthWhen(fx: ProxyFixture, cond: (h: Health) => boolean, timeoutMs = 20_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  let h = await health(fx);
  while (!cond(h) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    h = await health(fx);
  }
  return h;
}

describe('slow uploads', () => {
  it('30 clients trickling small POST bodies hold no upstream connection: GETs on every route and whole POSTs are answered meanwhile', async () => {
    const { fx, legacy } = await setup('{ upstreamConnections: 8, uploadShare: 0.25, bodyIdleTimeoutMs: 20000 }');
    const slow = await Promise.all(Array.from({ length: 30 }, () => trickle(fx.proxy.dataUrl, '/uploads', 1000, 300)));
    await new Promise((r) => setTimeout(r, 1000));
    expect(slow.every((s) => !s.client.closed)).toBe(true);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all([
        ...['/members/M-1', '/accounts/A-1/balance', '/accounts/A-2/balance', '/statements/S-1', '/anything/else'].map((path) => rawRequest(fx.proxy.dataUrl, { path }).then((r) => r.status)),
        rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/uploads', body: 'whole', headers: { 'content-type': 'text/plain' } }).then((r) => r.status),
      ]);
      expect(answers, `round ${round}`).toEqual([200, 200, 200, 200, 200, 200]);
    }
    // The trickling bodies are still being read by the proxy: none reached legacy.
    expect(legacy.openRequests).toBe(0);
    const h = await health(fx);
    expect(h.dataPlane.uploads.legacy).toEqual({ active: 0, waiting: 0 });
    for (const s of slow) s.stop();
  });

  it('30 clients trickling large (streamed) POST bodies to an 8-connection legacy pool: GETs on every route are still answered, uploads hold at most the upload share', async () => {
    const { fx } = await setup('{ upstreamConnections: 8, uploadShare: 0.25, bodyIdleTimeoutMs: 20000 }');
    const slow = await Promise.all(Array.from({ length: 30 }, () => trickle(fx.proxy.dataUrl, '/uploads', 1_000_000, 300)));
    await waitFor(() => slow.every((s) => !s.client.closed), 5000);
    // Every upload place is taken and the rest wait (holding no upstream connection).
    let h = await healthWhen(fx, (x) => x.dataPlane.uploads.legacy.active === 2 && x.dataPlane.uploads.legacy.waiting === 28);
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        ['/members/M-1', '/accounts/A-1/balance', '/accounts/A-2/balance', '/statements/S-1', '/members/M-2', '/anything/else'].map((path) =>
          rawRequest(fx.proxy.dataUrl, { path }).then((r) => r.status),
        ),
      );
      expect(answers, `round ${round}`).toEqual([200, 200, 200, 200, 200, 200]);
      h = await health(fx);
      expect(h.dataPlane.uploads.legacy.active).toBeLessThanOrEqual(2);
    }
    expect(h.dataPlane.uploads.legacy.active).toBe(2);
    expect(h.dataPlane.uploads.legacy.waiting).toBeGreaterThan(0);
    for (const s of slow) s.stop();
    // The places come back as the clients leave.
    h = await healthWhen(fx, (x) => x.dataPlane.uploads.legacy.active === 0 && x.dataPlane.uploads.legacy.waiting === 0);
    expect(h.dataPlane.uploads.legacy).toEqual({ active: 0, waiting: 0 });
  });

  it('a body that stops arriving gets 408 after the idle limit, and its upstream connection is let go', async () => {
    const { fx, legacy } = await setup('{ bodyIdleTimeoutMs: 800 }');
    const c = await RawClient.connect(fx.proxy.dataUrl);
    open.push({ close: () => c.close() });
    c.write('POST /uploads HTTP/1.1\r\nHost: bank.example\r\nContent-Length: 1000000\r\n\r\n0123456789');
    await waitFor(() => legacy.openRequests === 1, 10_000);
    const r = await c.response({ timeoutMs: 20_000 });
    expect(r.status).toBe(408);
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body).error.code).toBe('CUTOVER_ERR_BODY_TIMEOUT');
    expect(await c.waitClosed()).toBe(true);
    await waitFor(() => legacy.openRequests === 0 && legacy.abandoned === 1, 10_000);
    const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^cutover_client_body_timeouts_total 1$/m);
    // Not the upstream's failure.
    const stats = (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()).routes.uploads.served.legacy;
    expect(stats).toMatchObject({ requests: 0, s5xx: 0 });
    expect((await health(fx)).dataPlane.uploads.legacy.active).toBe(0);
  });

  it('a small body that stops arriving while it is being read gets 408, and nothing is forwarded', async () => {
    const { fx, legacy } = await setup('{ bodyIdleTimeoutMs: 800 }');
    const c = await RawClient.connect(fx.proxy.dataUrl);
    open.push({ close: () => c.close() });
    c.write('POST /uploads HTTP/1.1\r\nHost: bank.example\r\nContent-Length: 100\r\n\r\n0123456789');
    const r = await c.response({ timeoutMs: 20_000 });
    expect(r.status).toBe(408);
    expect(await c.waitClosed()).toBe(true);
    expect(legacy.bodies + legacy.openRequests).toBe(0);
    const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^cutover_client_body_timeouts_total 1$/m);
  });

  it('a mirrored body that stops arriving while it is being buffered gets 408 too, and nothing is forwarded', async () => {
    const { fx, legacy, v2 } = await setup('{ bodyIdleTimeoutMs: 800 }');
    const c = await RawClient.connect(fx.proxy.dataUrl);
    open.push({ close: () => c.close() });
    c.write('POST /postings HTTP/1.1\r\nHost: bank.example\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"amount":');
    const r = await c.response({ timeoutMs: 20_000 });
    expect(r.status).toBe(408);
    expect(legacy.bodies + legacy.openRequests + v2.bodies + v2.openRequests).toBe(0);
    // The mirror place was given back: a whole body afterwards is served and copied.
    const ok = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/postings', body: '{"amount":"1.00"}', headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(200);
    await waitFor(() => v2.bodies === 1, 10_000);
  });
});

describe('UploadGuard', () => {
  it('grants at most the share of connections, first come first served, and gives places back', () => {
    const g = new UploadGuard(1000, 8, 0.25);
    const started: number[] = [];
    const w = (i: number) => ({ req: {} as never, stalled() {}, lastProgressAt: 0, lastBytes: 0, queuedAt: 0, queueLimitMs: 1000, start: null }) as never;
    const ws = Array.from({ length: 5 }, (_, i) => w(i));
    ws.forEach((x, i) => g.acquire('legacy', x, () => started.push(i)));
    expect(started).toEqual([0, 1]);
    expect(g.waitingOn('legacy')).toBe(3);
    g.dequeue('legacy', ws[2]);
    g.release('legacy');
    expect(started).toEqual([0, 1, 3]);
    g.release('legacy');
    g.release('legacy');
    g.release('legacy');
    expect(started).toEqual([0, 1, 3, 4]);
    expect(g.activeOn('legacy')).toBe(0);
    expect(g.activeOn('v2')).toBe(0);
  });
});
