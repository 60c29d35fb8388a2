/**
 * A stand-in for the proxies' admin plane in the driver tests: a real HTTP server on a free
 * loopback port answering `GET /admin/stats?window=Ns` with whatever snapshot the test sets,
 * and a webhook receiver recording what it was sent. The real proxy is used by the
 * end-to-end tests; here the numbers must be exact and scripted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { snapshot } from './fixtures.js';

export interface StatsStub {
  url: string;
  /** Windows asked for, in seconds. */
  windows: number[];
  set(fn: (windowSeconds: number) => StatsSnapshot): void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

export async function startStatsStub(): Promise<StatsStub> {
  let fn: (w: number) => StatsSnapshot = () => snapshot({});
  const windows: number[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && u.pathname === '/admin/stats') {
      const w = Number(/^(\d+)s$/.exec(u.searchParams.get('window') ?? '')?.[1] ?? NaN);
      windows.push(w);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fn(w)));
      return;
    }
    res.writeHead(404).end();
  });
  const url = await listen(server);
  return {
    url,
    windows,
    set(f) {
      fn = f;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface HookCall {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export interface HookStub {
  url: string;
  calls: HookCall[];
  /** Status to answer per path (default 200). */
  status: Record<string, number>;
  close(): Promise<void>;
}

export async function startHookStub(): Promise<HookStub> {
  const calls: HookCall[] = [];
  const status: Record<string, number> = {};
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      calls.push({ path: req.url ?? '/', body: JSON.parse(body || '{}'), at: Date.now() });
      res.writeHead(status[req.url ?? '/'] ?? 200).end();
    });
  });
  const url = await listen(server);
  return { url, calls, status, close: () => new Promise<void>((r) => server.close(() => r())) };
}
