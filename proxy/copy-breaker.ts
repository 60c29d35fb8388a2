/**
 * When V2 stops answering mirror copies, stop sending them for a while. Without this, a hanging
 * V2 holds a route's whole in-flight cap of copies until they time out together, and each wave
 * of timeouts (sockets destroyed, new connections opened, the next wave dispatched) lands on the
 * proxy's event loop at once: clients of a mirror route saw their p99 nearly double
 * (`npm run bench:mirror-hang`).
 *
 * Per route: after `threshold` copies in a row got no answer (timeout, refused, reset), copies
 * are suspended for a cool-down (at least twice the copy timeout, so every copy still out has
 * finished). Then one probe copy goes out; an answer (any status: V2 is up) closes the breaker,
 * no answer suspends again for twice as long, up to a minute. Suspended copies are counted.
 */
const MAX_COOL_DOWN_MS = 60_000;

export class CopyBreaker {
  private failures = 0;
  /** 0 when closed; else copies are suspended until this time. */
  private openUntil = 0;
  private coolDownMs = 0;
  /** Half-open: the one probe copy is out. */
  private probing = false;

  constructor(
    private readonly threshold: number,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a copy may go now. While half-open, the first caller gets the probe. */
  allows(): boolean {
    if (this.openUntil === 0) return true;
    if (this.probing || this.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  /** An allowed copy was not sent after all (its body was too large): a probe may go again. */
  unused(): void {
    this.probing = false;
  }

  /** V2 answered a copy (whatever the status). */
  answered(): void {
    this.failures = 0;
    this.openUntil = 0;
    this.coolDownMs = 0;
    this.probing = false;
  }

  /** A copy got no answer. */
  failed(): void {
    if (this.threshold === 0) return;
    if (this.openUntil !== 0) {
      // Copies sent before the breaker opened do not count again; only the probe's failure does.
      if (!this.probing) return;
      this.probing = false;
      this.coolDownMs = Math.min(this.coolDownMs * 2, MAX_COOL_DOWN_MS);
      this.openUntil = this.now() + this.coolDownMs;
      return;
    }
    if (++this.failures < this.threshold) return;
    this.coolDownMs = Math.min(Math.max(1000, 2 * this.timeoutMs), MAX_COOL_DOWN_MS);
    this.openUntil = this.now() + this.coolDownMs;
  }

  /** True while copies are suspended (open or probing). */
  get suspended(): boolean {
    return this.openUntil !== 0;
  }
}
