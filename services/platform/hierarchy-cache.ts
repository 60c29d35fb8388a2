/**
 * V2's hierarchy-balance cache: an entry lives 3 s; a request in its last third (after 2 s) is
 * served from it while one background recomputation replaces it, so steady traffic does not wait.
 * In Redis when configured (shared by V2 processes), in process otherwise, and in process
 * whenever Redis fails: the cache never turns into an error. One computation per hierarchy
 * at a time (single flight); a posting into a hierarchy drops its entry.
 */
import type { Redis } from 'ioredis';
import type { HierarchyTotal } from '../data/hierarchy.js';
import { redisUsable } from './redis.js';

export type CacheState = 'hit' | 'miss' | 'refresh';

export interface CacheResult {
  value: HierarchyTotal;
  state: CacheState;
  source: 'redis' | 'memory' | 'computed';
}

export interface HierarchyCacheOptions {
  compute: (id: string) => Promise<HierarchyTotal>;
  redis?: Redis;
  keyPrefix?: string;
  ttlMs?: number;
  refreshAfterMs?: number;
}

export class HierarchyCache {
  private readonly memory = new Map<string, HierarchyTotal>();
  private readonly inflight = new Map<string, Promise<HierarchyTotal>>();
  private readonly generation = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly refreshAfterMs: number;
  private readonly keyPrefix: string;
  readonly counts = { hit: 0, miss: 0, refresh: 0, computed: 0, redisErrors: 0 };

  constructor(private readonly opts: HierarchyCacheOptions) {
    this.ttlMs = opts.ttlMs ?? 3000;
    this.refreshAfterMs = opts.refreshAfterMs ?? Math.round((this.ttlMs * 2) / 3);
    this.keyPrefix = opts.keyPrefix ?? 'cutover:demo:v2:hierarchy';
  }

  async get(id: string): Promise<CacheResult> {
    const now = Date.now();
    const { entry, source } = await this.read(id);
    if (entry && now - entry.computedAt < this.ttlMs) {
      if (now - entry.computedAt >= this.refreshAfterMs) {
        this.counts.refresh++;
        void this.computeOnce(id).catch(() => {});
        return { value: entry, state: 'refresh', source };
      }
      this.counts.hit++;
      return { value: entry, state: 'hit', source };
    }
    this.counts.miss++;
    return { value: await this.computeOnce(id), state: 'miss', source: 'computed' };
  }

  invalidate(id: string): void {
    this.generation.set(id, (this.generation.get(id) ?? 0) + 1);
    this.memory.delete(id);
    this.inflight.delete(id);
    const redis = this.opts.redis;
    if (redisUsable(redis)) redis.del(this.key(id)).catch(() => this.counts.redisErrors++);
  }

  private key(id: string): string {
    return `${this.keyPrefix}:${id}`;
  }

  private async read(id: string): Promise<{ entry: HierarchyTotal | undefined; source: 'redis' | 'memory' }> {
    const redis = this.opts.redis;
    if (redisUsable(redis)) {
      try {
        const text = await redis.get(this.key(id));
        if (text !== null) return { entry: JSON.parse(text) as HierarchyTotal, source: 'redis' };
      } catch {
        this.counts.redisErrors++;
      }
    }
    return { entry: this.memory.get(id), source: 'memory' };
  }

  private computeOnce(id: string): Promise<HierarchyTotal> {
    const running = this.inflight.get(id);
    if (running) return running;
    const gen = this.generation.get(id) ?? 0;
    const p = this.opts
      .compute(id)
      .then(async (value) => {
        this.counts.computed++;
        if ((this.generation.get(id) ?? 0) === gen) await this.write(id, value);
        return value;
      })
      .finally(() => {
        if (this.inflight.get(id) === p) this.inflight.delete(id);
      });
    this.inflight.set(id, p);
    return p;
  }

  private async write(id: string, value: HierarchyTotal): Promise<void> {
    this.memory.set(id, value);
    const redis = this.opts.redis;
    if (redisUsable(redis)) {
      try {
        await redis.set(this.key(id), JSON.stringify(value), 'PX', this.ttlMs);
      } catch {
        this.counts.redisErrors++;
      }
    }
  }
}
