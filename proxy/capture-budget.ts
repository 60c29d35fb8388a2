/**
 * One byte budget for every mirror body the proxy holds: the captures of pairs still in flight
 * (legacy's answer as the client is sent it, V2's and the replica's as they arrive) plus the
 * pairs handed to the verifier and not yet diffed. A capture that would pass the limit drops
 * its pair (the capture's bytes are let go at once; the pair is counted as dropped for memory).
 *
 * The sink's share is read from the sink (`stats().heldBytes` of the verifier pipeline,
 * `heldBytes` of the bounded queue) at most every REFRESH_MS, so a chunk costs one comparison.
 */
import type { PairSink } from '../shared/pairs.js';

const REFRESH_MS = 20;

export class CaptureBudget {
  /** Bytes held by captures of pairs in flight. */
  inFlight = 0;
  private sinkHeld = 0;
  private readAt = 0;
  /** Highest total seen (in flight + sink), for health and benches. */
  peak = 0;

  constructor(
    readonly limit: number,
    private readonly sink: PairSink | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take `n` bytes; false (nothing taken) when that would pass the limit. */
  take(n: number): boolean {
    const t = this.now();
    if (t - this.readAt >= REFRESH_MS) {
      this.readAt = t;
      this.sinkHeld = sinkHeldBytes(this.sink);
    }
    const total = this.inFlight + this.sinkHeld + n;
    if (total > this.limit) return false;
    this.inFlight += n;
    if (total > this.peak) this.peak = total;
    return true;
  }

  give(n: number): void {
    this.inFlight -= n;
  }

  held(): number {
    return this.inFlight + sinkHeldBytes(this.sink);
  }
}

/** Body bytes a sink holds, when it says (0 otherwise). */
export function sinkHeldBytes(sink: PairSink | undefined): number {
  const s = sink as (PairSink & { heldBytes?: unknown; stats?: () => { heldBytes?: number } }) | undefined;
  if (s === undefined) return 0;
  if (typeof s.heldBytes === 'number') return s.heldBytes;
  if (typeof s.stats === 'function') return s.stats().heldBytes ?? 0;
  return 0;
}
