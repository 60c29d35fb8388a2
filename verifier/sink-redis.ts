/**
 * Verdicts to a Redis stream (`XADD KEY MAXLEN ~ N * v JSON`), so the diffs of many proxy
 * replicas can be read into one report. Batched per tick; when Redis is slow or down the
 * backlog is capped and what does not fit, or fails, is dropped and counted.
 */
import { Redis } from 'ioredis';

export const DEFAULT_STREAM_KEY = 'cutover:verdicts';
export const DEFAULT_STREAM_MAXLEN = 100_000;

export interface RedisStreamOptions {
  url: string;
  key?: string;
  maxLen?: number;
  maxBacklog?: number;
}

export class RedisVerdictStream {
  readonly key: string;
  private readonly maxLen: number;
  private readonly maxBacklog: number;
  private readonly redis: Redis;
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  added = 0;
  errors = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(opts: RedisStreamOptions) {
    this.key = opts.key ?? DEFAULT_STREAM_KEY;
    this.maxLen = opts.maxLen ?? DEFAULT_STREAM_MAXLEN;
    this.maxBacklog = opts.maxBacklog ?? 10_000;
    this.redis = new Redis(opts.url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', (err: Error) => {
      this.lastError = err.message;
    });
  }

  get backlog(): number {
    return this.pending.length;
  }

  writeLine(line: string): boolean {
    if (this.pending.length >= this.maxBacklog) {
      this.dropped++;
      return false;
    }
    this.pending.push(line);
    if (!this.flushing) this.flushing = this.flushLoop();
    return true;
  }

  private async flushLoop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length > 0) {
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

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.redis.disconnect();
  }
}
