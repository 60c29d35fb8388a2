/**
 * Real upstreams for the proxy tests: node:http servers on port 0 that count what they
 * receive and answer in a chosen way (JSON, slow, hang, garbage), plus helpers to start a
 * proxy in front of them and to send raw requests (fetch would normalise paths and drop
 * hop-by-hop headers).
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseConfigText } from '../../shared/config.js';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../../proxy/index.js';
import { freePort, tempDir } from '../helpers/processes.js';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Behaviour = 'json' | 'hang' | 'garbage' | 'reset' | { delayMs: number };

export interface Origin {
  name: string;
  url: string;
  port: number;
  seen: Seen[];
  behaviour: Behaviour;
  /** Answer body for a request (default: JSON naming the origin and echoing the request). */
  respond?: (req: Seen, res: http.ServerResponse) => void;
  close(): Promise<void>;
}

export async function startOrigin(name: string, behaviour: Behaviour = 'json'): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  const origin: Origin = {
    name,
    url: '',
    port: 0,
    seen: [],
    behaviour,
    close: () =>
      new Promise((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const seen: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: '', at: Date.now() };
    origin.seen.push(seen);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.body = Buffer.concat(chunks).toString();
      const b = origin.behaviour;
      if (b === 'hang') return;
      if (b === 'reset') {
        req.socket.destroy();
        return;
      }
      if (b === 'garbage') {
        req.socket.end('this is not http\r\n\r\n');
        return;
      }
      const answer = () => {
        if (origin.respond) return origin.respond(seen, res);
        const body = JSON.stringify({ served: name, method: seen.method, url: seen.url, balance: '100.25' });
        res.writeHead(200, { 'content-type': 'application/json', 'x-origin': name, 'set-cookie': 'sid=secret' });
        res.end(body);
      };
      if (typeof b === 'object') setTimeout(answer, b.delayMs);
      else answer();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin.port = (server.address() as AddressInfo).port;
  origin.url = `http://127.0.0.1:${origin.port}`;
  return origin;
}

/** A URL where nothing listens (connection refused). */
export async function refusingUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

export interface ProxyFixture {
  proxy: RunningProxy;
  stateFile: string;
  close(): Promise<void>;
}

/** Start a proxy from YAML `routes:` text in front of the given upstreams. */
export async function startTestProxy(
  upstreams: { legacy: string; v2: string },
  routesYaml: string,
  extra: { yaml?: string; opts?: Partial<StartProxyOptions>; stateFile?: string } = {},
): Promise<ProxyFixture> {
  const stateFile = extra.stateFile ?? `${tempDir()}/state.json`;
  const config = parseConfigText(
    `upstreams: { legacy: ${upstreams.legacy}, v2: ${upstreams.v2} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: file://${stateFile}
${extra.yaml ?? ''}
routes:
${routesYaml}`,
    'test.yaml',
    {},
  );
  const proxy = await startProxy({ config, log: { log() {} }, ...extra.opts });
  return { proxy, stateFile, close: () => proxy.close() };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request through node:http exactly as written (no path normalisation, any header). */
export function rawRequest(
  base: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  const u = new URL(base);
  const headers: Record<string, string> = { ...opts.headers };
  // node:http sends DELETE/OPTIONS bodies without framing unless told the length.
  if (opts.body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((res, rej) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: opts.path, headers, agent: false },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode!, headers: r.headers, body: Buffer.concat(chunks) }));
        r.on('error', rej);
      },
    );
    req.on('error', rej);
    req.end(opts.body);
  });
}

/** Polls until cond holds; the bound is generous (a loaded machine is slow, not wrong). */
export async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
