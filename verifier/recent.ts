/**
 * The newest verdicts in memory for `GET /admin/diffs`: fixed-size rings (plain matches in a
 * small one of their own), filtered by route, path, result and time. Only redacted verdicts get
 * here.
 */
import { patternMatches } from './pointer.js';
import type { DiffQuery, Verdict } from './types.js';

export const DEFAULT_RECENT = 1000;
export const MAX_QUERY_LIMIT = 1000;
/**
 * Plain matches (no finding at all) are kept in a ring of their own this small. At thousands of
 * pairs a second, a 1000-entry ring keeps each verdict alive long enough to be promoted to V8's
 * old generation, and promoting and later collecting them cost the proxy's GC about 2 KB of
 * copying per pair (measured with --trace-gc-nvp: 2.45 KB promoted per request in mirror mode,
 * 0.64 with a small ring). Verdicts with findings, errors and noise keep the full capacity.
 */
export const RECENT_PLAIN_MATCHES = 64;

/** A fixed ring that remembers the order verdicts arrived in across rings. */
class Ring {
  private readonly items: Array<Verdict | undefined>;
  private readonly seqs: Float64Array;
  private next = 0;
  size = 0;

  constructor(capacity: number) {
    this.items = new Array(Math.max(1, capacity)).fill(undefined);
    this.seqs = new Float64Array(Math.max(1, capacity));
  }

  push(v: Verdict, seq: number): void {
    this.items[this.next] = v;
    this.seqs[this.next] = seq;
    this.next = (this.next + 1) % this.items.length;
    if (this.size < this.items.length) this.size++;
  }

  /** The i-th newest (0 = newest). */
  at(i: number): Verdict {
    return this.items[(this.next - 1 - i + this.items.length) % this.items.length]!;
  }

  seqAt(i: number): number {
    return this.seqs[(this.next - 1 - i + this.items.length) % this.items.length];
  }

  clear(): void {
    this.items.fill(undefined);
    this.next = 0;
    this.size = 0;
  }
}

function isPlainMatch(v: Verdict): boolean {
  return v.result === 'match' && v.findings.length === 0 && !v.findingsOmitted?.length;
}

export class RecentVerdicts {
  private readonly others: Ring;
  private readonly matches: Ring;
  private seq = 0;

  constructor(readonly capacity = DEFAULT_RECENT) {
    this.others = new Ring(capacity);
    this.matches = new Ring(Math.min(Math.max(1, capacity), RECENT_PLAIN_MATCHES));
  }

  push(v: Verdict): void {
    (isPlainMatch(v) ? this.matches : this.others).push(v, this.seq++);
  }

  get length(): number {
    return this.others.size + this.matches.size;
  }

  /** Newest first, both rings merged by arrival. `path` matches a finding's templated path (`*` allowed in the query). */
  query(q: DiffQuery = {}): Verdict[] {
    const limit = Math.min(Math.max(1, q.limit ?? 100), MAX_QUERY_LIMIT);
    const since = q.since === undefined ? undefined : typeof q.since === 'number' ? q.since : Date.parse(q.since);
    const out: Verdict[] = [];
    let i = 0;
    let j = 0;
    const o = this.others;
    const m = this.matches;
    while ((i < o.size || j < m.size) && out.length < limit) {
      const takeOther = j >= m.size || (i < o.size && o.seqAt(i) > m.seqAt(j));
      const v = takeOther ? o.at(i++) : m.at(j++);
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
    this.others.clear();
    this.matches.clear();
    this.seq = 0;
  }
}
