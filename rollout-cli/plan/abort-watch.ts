/**
 * Every abort written since the driver last looked, not only the current `aborted` flag: an
 * abort followed by a `resume` 50 ms later leaves `aborted: false` behind, but the history
 * keeps both, and the driver must stop all the same (nothing re-ramps by itself).
 *
 * The watermark is the last state version the driver has accounted for (what it read and
 * judged, or what it wrote itself). A newer version is explained by the history entries after
 * the watermark; until they are read and hold no abort, the watermark does not move.
 */
import type { HistoryEntry, RolloutState, StateStore } from '../../shared/state/types.js';

export interface AbortSeen {
  version: number;
  by: string;
  reason: string;
}

/** An entry that aborted the rollout: the abort verb (any route), or any write that set `aborted`. */
export function isAbortEntry(e: HistoryEntry): boolean {
  return e.action === 'abort' || e.changes.some((c) => c.path === 'aborted' && c.to === true);
}

export class AbortWatch {
  private version: number;
  private readonly epoch: string | undefined;

  constructor(
    private readonly store: StateStore,
    start: RolloutState,
  ) {
    this.version = start.version;
    this.epoch = start.epoch;
  }

  /** The version accounted for so far. */
  get watermark(): number {
    return this.version;
  }

  /** The driver wrote `written` itself (on top of a state it had checked). */
  wrote(written: RolloutState): void {
    if (written.epoch === this.epoch && written.version > this.version) this.version = written.version;
  }

  /**
   * The abort written after the watermark up to `cur`, if any; undefined when there was none
   * (the watermark then moves to `cur`). A store re-seeded under a new epoch, or versions the
   * history cannot account for, count as an abort: the driver cannot tell what happened in
   * between, and stopping is the safe side. Throws when the history cannot be read (the caller
   * tries again; the watermark stays).
   */
  async check(cur: RolloutState): Promise<AbortSeen | undefined> {
    if (cur.aborted) return { version: cur.version, by: cur.updatedBy, reason: cur.abortReason ?? 'aborted' };
    if (cur.epoch !== this.epoch) {
      return { version: cur.version, by: cur.updatedBy, reason: `the state store was re-seeded (epoch ${this.epoch ?? '-'} -> ${cur.epoch ?? '-'}); what happened before is unknown` };
    }
    if (cur.version <= this.version) return undefined;
    const entries = await this.store.history({ sinceVersion: this.version });
    const upTo = entries.filter((e) => e.version <= cur.version);
    const abort = upTo.find(isAbortEntry);
    if (abort) return { version: abort.version, by: abort.by, reason: abort.reason ?? 'aborted' };
    const covered = new Set(upTo.map((e) => e.version));
    for (let v = this.version + 1; v <= cur.version; v++) {
      if (!covered.has(v)) {
        return { version: v, by: cur.updatedBy, reason: `version ${v} of the rollout state is missing from the history; the driver cannot tell whether it was an abort` };
      }
    }
    this.version = cur.version;
    return undefined;
  }
}
