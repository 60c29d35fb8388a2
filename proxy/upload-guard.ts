/**
 * Slow clients cannot starve an upstream pool.
 *
 * - Streamed uploads (request bodies forwarded as they arrive) hold an upstream connection for
 *   as long as the client takes to send them. At most `uploadShare` of each upstream's
 *   connections may be held that way (each named upstream has its own places, from its own pool
 *   size); further uploads wait here, holding no connection (their
 *   bytes stay in the client's socket), and get 503 if no place frees within the route timeout.
 * - A request body that makes no progress for `bodyIdleTimeoutMs` while the proxy is ready to
 *   read it is stalled: the owner answers 408 and lets its upstream connection go. Progress is
 *   read from the client socket's byte count by one sweep timer, so watching costs no listener
 *   or timer per request.
 */
import type { IncomingMessage } from 'node:http';

export interface WatchedBody {
  readonly req: IncomingMessage;
  /** Called once when the body stalled (no progress for the idle limit while we were reading it). */
  stalled(): void;
  /** Called once when the upload waited for a place longer than `queueLimitMs`. */
  waitedTooLong?(): void;
  /** performance-free clock: Date.now() of the last progress seen. */
  lastProgressAt: number;
  lastBytes: number;
  /** Date.now() when it started waiting for an upload place; 0 when not waiting. */
  queuedAt: number;
  queueLimitMs: number;
  /** Runs when a place is granted. */
  start: (() => void) | null;
}

/** The upload places of one upstream. */
interface Places {
  active: number;
  readonly waiting: WatchedBody[];
  readonly max: number;
}

export class UploadGuard {
  private readonly watched = new Set<WatchedBody>();
  /** Per upstream name, made on first use. */
  private readonly places = new Map<string, Places>();
  private timer: NodeJS.Timeout | undefined;
  /** Bodies answered 408, uploads answered 503 after waiting: for metrics. */
  stalledBodies = 0;
  uploadsRefused = 0;
  /** Places of an upstream without its own pool size. */
  readonly maxActive: number;

  constructor(
    readonly idleMs: number,
    connections: number,
    private readonly share: number,
    private readonly now: () => number = Date.now,
    /** Pool sizes of the upstreams that have their own (`upstreams.NAME.connections`). */
    private readonly connectionsOf: Readonly<Record<string, number>> = {},
  ) {
    this.maxActive = Math.max(1, Math.floor(connections * share));
  }

  private on(upstream: string): Places {
    let p = this.places.get(upstream);
    if (p === undefined) {
      const own = Object.hasOwn(this.connectionsOf, upstream) ? this.connectionsOf[upstream] : undefined;
      p = { active: 0, waiting: [], max: own === undefined ? this.maxActive : Math.max(1, Math.floor(own * this.share)) };
      this.places.set(upstream, p);
    }
    return p;
  }

  /** Upload places of `upstream`. */
  maxActiveOn(upstream: string): number {
    return this.on(upstream).max;
  }

  /** Watch a body for stalls until `unwatch`. */
  watch(w: WatchedBody): void {
    w.lastProgressAt = this.now();
    w.lastBytes = w.req.socket?.bytesRead ?? 0;
    this.watched.add(w);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, this.idleMs / 4)));
      this.timer.unref();
    }
  }

  unwatch(w: WatchedBody): void {
    this.watched.delete(w);
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Take an upload place on `upstream` now (start runs at once) or when one frees. */
  acquire(upstream: string, w: WatchedBody, start: () => void): void {
    const p = this.on(upstream);
    if (p.active < p.max) {
      p.active++;
      start();
      return;
    }
    w.queuedAt = this.now();
    w.start = start;
    p.waiting.push(w);
  }

  /** Give a place back; the longest-waiting upload to that upstream starts. */
  release(upstream: string): void {
    const p = this.on(upstream);
    const q = p.waiting;
    while (q.length > 0) {
      const next = q.shift()!;
      const start = next.start;
      next.start = null;
      next.queuedAt = 0;
      if (start === null) continue;
      next.lastProgressAt = this.now();
      next.lastBytes = next.req.socket?.bytesRead ?? 0;
      start();
      return;
    }
    p.active--;
  }

  /** Forget a waiting upload (its client went away or it was refused). */
  dequeue(upstream: string, w: WatchedBody): void {
    const q = this.on(upstream).waiting;
    const i = q.indexOf(w);
    if (i !== -1) q.splice(i, 1);
    w.start = null;
    w.queuedAt = 0;
  }

  activeOn(upstream: string): number {
    return this.places.get(upstream)?.active ?? 0;
  }

  waitingOn(upstream: string): number {
    return this.places.get(upstream)?.waiting.length ?? 0;
  }

  private sweep(): void {
    const t = this.now();
    for (const w of this.watched) {
      const req = w.req;
      if (req.complete || req.destroyed) {
        this.unwatch(w);
        continue;
      }
      if (w.queuedAt !== 0) {
        if (t - w.queuedAt > w.queueLimitMs) {
          this.unwatch(w);
          this.uploadsRefused++;
          w.waitedTooLong?.();
        }
        continue;
      }
      const bytes = req.socket?.bytesRead ?? 0;
      // A full buffer means the proxy (its upstream) is the slow side, not the client.
      if (bytes !== w.lastBytes || req.readableLength >= req.readableHighWaterMark) {
        w.lastBytes = bytes;
        w.lastProgressAt = t;
        continue;
      }
      if (t - w.lastProgressAt > this.idleMs) {
        this.unwatch(w);
        this.stalledBodies++;
        w.stalled();
      }
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }
}
