/**
 * The shadow's own backpressure: at most `maxActive` jobs run at once, at most `capacity` wait
 * (oldest first); a job that finds the queue full is refused and counted. `offer` never blocks.
 * A running job calls `done()` exactly once when it ends.
 */
export class WorkQueue<T> {
  private readonly ring: Array<T | undefined>;
  private head = 0;
  private count = 0;
  active = 0;
  /** Jobs refused because the queue was full. */
  dropped = 0;
  accepted = 0;

  constructor(
    readonly maxActive: number,
    readonly capacity: number,
    private readonly start: (job: T) => void,
  ) {
    this.ring = new Array(Math.max(1, capacity)).fill(undefined);
  }

  get waiting(): number {
    return this.count;
  }

  /** Whether `offer` would take a job now. */
  hasRoom(): boolean {
    return this.active < this.maxActive || this.count < this.capacity;
  }

  /** Start the job now, queue it, or refuse it (false: dropped and counted). */
  offer(job: T): boolean {
    if (this.active < this.maxActive) {
      this.accepted++;
      this.active++;
      this.start(job);
      return true;
    }
    if (this.count >= this.capacity) {
      this.dropped++;
      return false;
    }
    this.accepted++;
    this.ring[(this.head + this.count) % this.ring.length] = job;
    this.count++;
    return true;
  }

  /** A running job ended: start the oldest waiting one. */
  done(): void {
    this.active--;
    while (this.count > 0 && this.active < this.maxActive) {
      const job = this.ring[this.head]!;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      this.active++;
      this.start(job);
    }
  }

  /** Forget the waiting jobs (on close); returns how many there were. */
  clear(): number {
    const n = this.count;
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    return n;
  }
}
