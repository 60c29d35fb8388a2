/**
 * The steady load: a fixed rate of mixed requests (mirror reads, idempotent POSTs with unique
 * keys on a mirror route, canary reads), spread round-robin over the proxy replicas with
 * undici. Like a load balancer, a request whose connection was refused or reset before an
 * answer is retried once on the next replica (safe: reads, and POSTs carry an Idempotency-Key);
 * the retry is counted. Every request leaves one sample.
 */
import { Pool } from 'undici';
import { randomUUID } from 'node:crypto';
import { API_KEY } from './cluster.js';

export type RouteKind = 'mirror' | 'canary';

export interface Sample {
  /** Send time, ms since the load started. */
  t: number;
  route: string;
  kind: RouteKind;
  method: string;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** Error code when no (complete) answer came. */
  error?: string;
  latencyMs: number;
  retried: boolean;
  /** Who served it (x-cutover-upstream). */
  upstream?: string;
  /** For a proxy error answer: its error code and message (`upstream v2 ... (ECONNRESET)`). */
  errorCode?: string;
  errorMessage?: string;
}

export interface PostAccount {
  accountId: string;
  currency: string;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED']);

/** Read accounts (mirror and canary ids) kept apart from the POST accounts so posts do not make read diffs. */
function pick(n: number, from: number, span: number, prefix: string, width: number): string {
  return `${prefix}${String(from + (n % span)).padStart(width, '0')}`;
}

export class LoadGenerator {
  readonly samples: Sample[] = [];
  readonly postKeys: string[] = [];
  /** One pool per replica for mirror routes, one for canary routes: a canary request waiting on a hung V2 must not hold the connection a mirror request needs (that would be the client's queue, not the proxy). */
  private pools: Record<RouteKind, Pool[]>;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private t0 = 0;
  private inFlight = new Set<Promise<void>>();
  private rr = 0;

  constructor(
    private readonly dataUrls: string[],
    private readonly rps: number,
    private readonly postAccounts: PostAccount[],
    private readonly timeoutMs = 15_000,
  ) {
    const make = () => dataUrls.map((u) => new Pool(u, { connections: 64, pipelining: 1, keepAliveTimeout: 4000 }));
    this.pools = { mirror: make(), canary: make() };
  }

  /** ms since start() */
  now(): number {
    return performance.now() - this.t0;
  }

  start(): void {
    this.t0 = performance.now();
    const tickMs = 10;
    let owed = 0;
    let last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      owed += ((now - last) / 1000) * this.rps;
      last = now;
      while (owed >= 1) {
        owed -= 1;
        const p = this.one(this.seq++);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    }, tickMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.pools.mirror, ...this.pools.canary].map((p) => p.close().catch(() => undefined)));
  }

  private async one(n: number): Promise<void> {
    const r = n % 20;
    let route: string;
    let kind: RouteKind;
    let method = 'GET';
    let path: string;
    let body: string | undefined;
    const headers: Record<string, string> = { 'x-api-key': API_KEY };
    if (r < 8) {
      route = 'balance';
      kind = 'mirror';
      path = `/accounts/${pick(n, 1, 1000, 'A-', 6)}/balance`;
    } else if (r < 11) {
      route = 'transactions';
      kind = 'mirror';
      path = `/accounts/${pick(n, 1, 1000, 'A-', 6)}/transactions?limit=5`;
    } else if (r < 14) {
      route = 'post-transaction';
      kind = 'mirror';
      method = 'POST';
      path = '/transactions';
      const acct = this.postAccounts[n % this.postAccounts.length];
      const key = `soak-${randomUUID()}`;
      this.postKeys.push(key);
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] = key;
      body = JSON.stringify({ accountId: acct.accountId, type: 'credit', amount: acct.currency === 'JPY' ? '1' : '0.01', currency: acct.currency, description: 'soak' });
    } else if (r < 17) {
      route = 'member';
      kind = 'canary';
      path = `/members/${pick(n, 1, 800, 'M-', 6)}`;
    } else {
      route = 'wallet';
      kind = 'canary';
      path = `/wallets/${pick(n, 1, 400, 'W-', 6)}`;
    }
    const t = this.now();
    const start = performance.now();
    const pools = this.pools[kind];
    const first = this.rr++ % pools.length;
    let retried = false;
    let sample: Sample = { t, route, kind, method, status: 0, latencyMs: 0, retried };
    for (let attempt = 0; attempt < 2; attempt++) {
      const pool = pools[(first + attempt) % pools.length];
      try {
        const res = await pool.request({ method: method as 'GET' | 'POST', path, headers, body, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
        const buf = await res.body.arrayBuffer();
        const up = res.headers['x-cutover-upstream'];
        sample = { t, route, kind, method, status: res.statusCode, latencyMs: performance.now() - start, retried, upstream: typeof up === 'string' ? up : undefined };
        if (res.statusCode >= 500 && buf.byteLength < 4096) {
          try {
            const e = JSON.parse(Buffer.from(buf).toString('utf8')).error as { code?: string; message?: string } | undefined;
            if (e?.code?.startsWith('CUTOVER_ERR_UPSTREAM')) {
              sample.errorCode = e.code;
              sample.errorMessage = e.message;
            }
          } catch {
            /* not a proxy error body */
          }
        }
        break;
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).name;
        sample = { t, route, kind, method, status: 0, error: code, latencyMs: performance.now() - start, retried };
        if (attempt === 0 && RETRYABLE.has(code)) {
          retried = true;
          continue;
        }
        break;
      }
    }
    this.samples.push(sample);
  }
}
