/** Number and time formats shared by the HTML and Markdown renderers (same figure, same text). */

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A rate (0..1) as a percentage with enough decimals to show small rates. */
export function fmtPct(rate: number): string {
  if (!Number.isFinite(rate)) return '-';
  const p = rate * 100;
  if (p === 0) return '0%';
  if (p >= 10) return `${p.toFixed(1)}%`;
  if (p >= 1) return `${p.toFixed(2)}%`;
  if (p >= 0.01) return `${p.toFixed(3)}%`;
  return `${p.toPrecision(2)}%`;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const a = Math.abs(ms);
  if (a >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (a >= 100) return `${ms.toFixed(0)} ms`;
  if (a >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtSignedMs(ms: number): string {
  return `${ms > 0 ? '+' : ''}${fmtMs(ms)}`;
}

/** `2026-11-23 01:22:05Z` from an ISO time; the input unchanged when it does not parse. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

export const VERDICT_LABEL = { clean: 'clean', 'needs-review': 'needs review', failing: 'failing', 'no-traffic': 'no traffic', 'not-mirrored': 'not mirrored' } as const;

export const ANSWER_LABEL = { go: 'go on', review: 'review first', stop: 'stop' } as const;

/** "3 of 10 pairs not compared (too large 2, cut short 1): never counted as matches". */
export function notComparedLine(r: { pairs: number; notCompared: number; notComparedReasons: { tooLarge: number; undecodable: number; cutShort: number } }): string {
  const why = [
    [r.notComparedReasons.tooLarge, 'too large'],
    [r.notComparedReasons.undecodable, 'undecodable'],
    [r.notComparedReasons.cutShort, 'cut short'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, w]) => `${w} ${fmtInt(n as number)}`);
  return `${fmtInt(r.notCompared)} of ${fmtInt(r.pairs)} pairs not compared${why.length ? ` (${why.join(', ')})` : ''}: never counted as matches`;
}

/**
 * `legacy → statements-v2`: the services a route moves between, when the config names them;
 * null for a route between the default `legacy` and `v2` (nothing to add to its name).
 */
export function servicesLine(r: { upstreams?: { legacy: string; v2: string } }): string | null {
  const u = r.upstreams;
  if (u === undefined || (u.legacy === 'legacy' && u.v2 === 'v2')) return null;
  return `${u.legacy} → ${u.v2}`;
}
