/**
 * The newest verdicts in memory for `GET /admin/diffs`: a fixed-size ring, filtered by route,
 * path, result and time. Only redacted verdicts get here.
 */
import { patternMatches } from './pointer.js';
import type { DiffQuery, Verdict } from './types.js';

export const DEFAULT_RECENT = 1000;
export const MAX_QUERY_LIMIT = 1000;

export class RecentVerdicts {
  private readonly ring: Array<Verdict | undefined>;
  private next = 0;
  private size = 0;

  constructor(readonly capacity = DEFAULT_RECENT) {
    this.ring = new Array(Math.max(1, capacity)).fill(undefined);
  }

  push(v: Verdict): void {
    this.ring[this.next] = v;
    this.next = (this.next + 1) % this.ring.length;
    if (this.size < this.ring.length) this.size++;
  }

  get length(): number {
    return this.size;
  }

  /** Newest first. `path` matches a finding's templated path (`*` allowed in the query). */
  query(q: DiffQuery = {}): Verdict[] {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_QUERY_LIMIT);
    const since = q.since === undefined ? undefined : typeof q.since === 'number' ? q.since : Date.parse(q.since);
    const out: Verdict[] = [];
    for (let i = 0; i < this.size && out.length < limit; i++) {
      const v = this.ring[(this.next - 1 - i + this.ring.length) % this.ring.length]!;
      if (q.route !== undefined && v.route !== q.route) continue;
      if (q.result !== undefined && v.result !== q.result) continue;
      if (since !== undefined && !(Date.parse(v.at) >= since)) continue;
      if (q.path !== undefined) {
        const p = q.path;
        const hit = v.findings.some((f) => patternMatches(p, f.path) || patternMatches(p, f.pointer)) || (v.findingsOmitted ?? []).some((g) => patternMatches(p, g.path));
        if (!hit) continue;
      }
      out.push(v);
    }
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.size = 0;
  }
}
