/**
 * The bounded hand-off between the proxy and the verifier: `offer` never blocks and never
 * grows the queue past its capacity; a pair that does not fit is dropped and counted.
 * The default sink when no verifier is wired: pairs wait here (up to the bound) for a consumer.
 */
import type { MirroredPair, PairSink } from '../shared/pairs.js';

export class BoundedPairQueue implements PairSink {
  private readonly ring: Array<MirroredPair | undefined>;
  private head = 0;
  private count = 0;
  offered = 0;
  dropped = 0;
  /** Body characters of the pairs waiting (the proxy's capture budget counts them). */
  heldBytes = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.ring = new Array(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  hasRoom(): boolean {
    return this.count < this.capacity;
  }

  offer(pair: MirroredPair): boolean {
    this.offered++;
    if (this.count >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.ring[(this.head + this.count) % this.capacity] = pair;
    this.count++;
    this.heldBytes += bodyLength(pair);
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w();
    }
    return true;
  }

  /** Take up to `max` pairs, oldest first. */
  take(max = Infinity): MirroredPair[] {
    const n = Math.min(max, this.count);
    const out: MirroredPair[] = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[this.head]!;
      this.heldBytes -= bodyLength(out[i]);
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= n;
    return out;
  }

  /** Resolves when at least one pair is waiting (at once if one already is). */
  whenAvailable(): Promise<void> {
    if (this.count > 0) return Promise.resolve();
    return new Promise((res) => {
      const prev = this.waiter;
      this.waiter = () => {
        prev?.();
        res();
      };
    });
  }
}

function bodyLength(p: MirroredPair): number {
  // Defensive: a malformed pair is held (and counted as empty), never a throw on the hot path.
  const len = (side: { body?: unknown } | undefined) => (typeof side?.body === 'string' ? side.body.length : 0);
  return len(p.legacy) + len(p.v2) + len(p.replica);
}

/** True when a sink can say cheaply that it would refuse a pair right now. */
export function sinkIsFull(sink: PairSink): boolean {
  const s = sink as PairSink & { hasRoom?: () => boolean };
  return typeof s.hasRoom === 'function' && !s.hasRoom();
}
