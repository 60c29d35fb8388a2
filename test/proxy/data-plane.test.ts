/**
 * The data plane's own streaming and connection handling (node:http in front, undici pools
 * behind): large bodies streamed both ways without change, a client that leaves cancels the
 * upstream call, an upstream that dies mid-body breaks the client's answer rather than
 * shortening it, and a draining proxy answers 503 to new requests on open connections.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, startOrigin, startTestProxy, waitFor } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

/** Every route here is on legacy: V2 is never asked (nothing listens on port 9). */
const NO_V2 = 'http://127.0.0.1:9';
const ROUTES = `
  - name: files
    match: { method: POST, path: /files }
    mode: legacy
  - name: slow
    match: { method: GET, path: /slow }
    mode: legacy
    timeoutMs: 10000
`;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A node:http origin with one handler for every request; closed after the test. */
async function origin(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  open.push({
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the data plane', () => {
  it('streams a 12 MB request body up and a 12 MB answer down, byte for byte, in both directions at once', async () => {
    const sent = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32LE((i * 2654435761) >>> 0, i);
    let received = '';
    const up = await origin((req, res) => {
      const h = createHash('sha256');
      let n = 0;
      // Answer while the body is still arriving: the proxy must pass both streams at once.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
        res.write(c);
      });
      req.on('end', () => {
        received = `${n}:${h.digest('hex')}`;
        res.end();
      });
    });
    const fx = await startTestProxy({ legacy: up.url, v2: NO_V2 }, ROUTES);
    open.push(fx);
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'POST', path: '/files', body: sent, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-cutover-upstream']).toBe('legacy');
    expect(received).toBe(`${sent.length}:${sha(sent)}`);
    expect(r.body.length).toBe(sent.length);
    expect(sha(r.body)).toBe(sha(sent));
  });

  it('cancels the upstream call when the client goes away, and does not count it as an upstream failure', async () => {
    let upstreamClosed = false;
    let seen = 0;
    const up = await origin((req) => {
      seen++;
      // Never answers; notices when the proxy drops the call.
      req.socket.on('close', () => (upstreamClosed = true));
    });
    const fx = await startTestProxy({ legacy: up.url, v2: NO_V2 }, ROUTES);
    open.push(fx);
    const u = new URL(fx.proxy.dataUrl);
    const client = http.request({ host: u.hostname, port: u.port, path: '/slow', agent: false });
    client.on('error', () => undefined);
    client.end();
    await waitFor(() => seen === 1);
    client.destroy();
    await waitFor(() => upstreamClosed, 3000);
    const stats = (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()) as {
      routes: Record<string, { served: { legacy: { requests: number; s5xx: number } } }>;
    };
    expect(stats.routes.slow.served.legacy).toMatchObject({ requests: 0, s5xx: 0 });
  });

  it('breaks the client connection when the upstream dies mid-body (never a short answer that looks whole)', async () => {
    const up = await origin((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 50);
    });
    const fx = await startTestProxy({ legacy: up.url, v2: NO_V2 }, ROUTES);
    open.push(fx);
    const outcome = await rawRequest(fx.proxy.dataUrl, { path: '/slow' }).then(
      (r) => `completed with ${r.body.length} bytes`,
      (err: Error) => `failed: ${err.message}`,
    );
    expect(outcome).toMatch(/^failed: (aborted|socket hang up|ECONNRESET)/);
  });

  it('while draining, answers 503 with connection: close to a request that arrives on an open connection, and lets the in-flight one finish', async () => {
    const slow = await startOrigin('legacy', { delayMs: 400 });
    open.push(slow);
    const fx = await startTestProxy({ legacy: slow.url, v2: NO_V2 }, ROUTES);
    const u = new URL(fx.proxy.dataUrl);
    const inFlight = rawRequest(fx.proxy.dataUrl, { path: '/slow' });
    await waitFor(() => slow.seen.length === 1);
    // A second client has begun its request (headers half sent) when the drain starts.
    const sock = net.connect(Number(u.port), u.hostname);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let answer = '';
    sock.on('data', (d) => (answer += d.toString('latin1')));
    sock.write('GET /slow HTTP/1.1\r\nHost: proxy\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const closing = fx.close();
    sock.write('\r\n');
    await new Promise<void>((r) => sock.once('close', () => r()));
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('CUTOVER_ERR_CLOSING');
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    await closing;
    // The slow origin saw only the first request: the late one never left the proxy.
    expect(slow.seen.length).toBe(1);
  });
});
