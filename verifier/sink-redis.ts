/**
 * Verdicts to a Redis stream (`XADD KEY MAXLEN ~ N * v JSON`), so the diffs of many proxy
 * replicas can be read into one report. Batched; while Redis is unreachable lines wait in a
 * bounded backlog (what does not fit is dropped and counted), and they go out once it is back.
 * Closing waits a little for Redis, then counts what is left as dropped.
 */
import { Redis } from 'ioredis';
import { redisClientSync } from '../shared/state/redis-connection.js';

export const DEFAULT_STREAM_KEY = 'cutover:verdicts';
export const DEFAULT_STREAM_MAXLEN = 100_000;

export interface RedisStreamOptions {
  url: string;
  key?: string;
  maxLen?: number;
  maxBacklog?: number;
}

/** How long a stream connection ioredis gave up on waits before it is opened again. */
export const RECONNECT_AFTER_END_MS = 1000;

export class RedisVerdictStream {
  readonly key: string;
  private readonly maxLen: number;
  private readonly maxBacklog: number;
  private readonly redis: Redis;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private closing = false;
  added = 0;
  errors = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(opts: RedisStreamOptions) {
    this.key = opts.key ?? DEFAULT_STREAM_KEY;
    this.maxLen = opts.maxLen ?? DEFAULT_STREAM_MAXLEN;
    this.maxBacklog = opts.maxBacklog ?? 10_000;
    this.redis = redisClientSync(Redis, opts.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    this.redis.on('ready', () => {
      if (this.pending.length > 0 && !this.flushing) this.flushing = this.flushLoop();
    });
    // ioredis stops for good ('end') when a connect attempt itself fails (seen with Sentinel
    // during a failover on a loaded machine): verdicts would wait in the backlog forever.
    this.redis.on('end', () => {
      if (this.closing) return;
      setTimeout(() => {
        if (!this.closing && this.redis.status === 'end') this.redis.connect().catch(() => undefined);
      }, RECONNECT_AFTER_END_MS).unref();
    });
  }

  /** ioredis's connection status (`ready` when lines can go out). */
  get connection(): string {
    return this.redis.status;
  }

  get backlog(): number {
    return this.pending.length;
  }

  writeLine(line: string): boolean {
    if (this.closing || this.pending.length >= this.maxBacklog) {
      this.dropped++;
      return false;
    }
    this.pending.push(line);
    if (!this.flushing) this.flushing = this.flushLoop();
    return true;
  }

  private waitReady(ms: number): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((res) => {
      const onReady = () => {
        clearTimeout(t);
        res(true);
      };
      const t = setTimeout(() => {
        this.redis.off('ready', onReady);
        res(false);
      }, ms);
      this.redis.once('ready', onReady);
    });
  }

  private async flushLoop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length > 0) {
        if (this.redis.status !== 'ready') {
          // Not connected: the lines wait (bounded by maxBacklog); the 'ready' event restarts the loop.
          if (!this.closing) return;
          if (!(await this.waitReady(2000))) {
            this.dropped += this.pending.length;
            this.pending = [];
            return;
          }
        }
        const lines = this.pending.splice(0, 500);
        const p = this.redis.pipeline();
        for (const l of lines) p.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'v', l);
        try {
          const res = (await p.exec()) ?? [];
          for (const [err] of res) {
            if (err) {
              this.errors++;
              this.dropped++;
              this.lastError = err.message;
            } else this.added++;
          }
        } catch (err) {
          this.errors++;
          this.dropped += lines.length;
          this.lastError = (err as Error).message;
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Resolves when the lines queued so far are written, or wait in the backlog for Redis (up to `timeoutMs`). */
  async flush(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.flushing) await this.flushing;
      if (this.pending.length === 0 || this.redis.status !== 'ready') return;
      this.flushing ??= this.flushLoop();
    }
  }

  /** Writes what it can (waiting up to 2 s for Redis), counts the rest as dropped, disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.flushing) await this.flushing;
    if (this.pending.length > 0) {
      this.flushing = this.flushLoop();
      await this.flushing;
    }
    this.redis.disconnect();
  }
}
