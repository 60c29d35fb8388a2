/** Pure: client-side figures of a time window of load samples (counts by outcome, p50/p99). */
import type { RouteKind, Sample } from './load.js';

export interface WindowFigures {
  sent: number;
  succeeded: number;
  failed: number;
  /** Failures by status ("503") or by error code ("UND_ERR_SOCKET"). */
  failedBy: Record<string, number>;
  retried: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface PhaseFigures {
  all: WindowFigures;
  mirror: WindowFigures;
  canary: WindowFigures;
}

export function isSuccess(s: Sample): boolean {
  return s.status >= 200 && s.status < 300;
}

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[i] * 10) / 10;
}

export function figures(samples: readonly Sample[]): WindowFigures {
  const failedBy: Record<string, number> = {};
  let succeeded = 0;
  let retried = 0;
  const lat: number[] = [];
  for (const s of samples) {
    if (s.retried) retried++;
    if (isSuccess(s)) {
      succeeded++;
      lat.push(s.latencyMs);
    } else {
      const k = s.status ? (s.errorCode ? `${s.status} ${s.errorCode}` : String(s.status)) : (s.error ?? 'error');
      failedBy[k] = (failedBy[k] ?? 0) + 1;
    }
  }
  lat.sort((a, b) => a - b);
  return { sent: samples.length, succeeded, failed: samples.length - succeeded, failedBy, retried, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };
}

/** Samples sent in [fromMs, toMs). */
export function windowOf(samples: readonly Sample[], fromMs: number, toMs: number, kind?: RouteKind): Sample[] {
  return samples.filter((s) => s.t >= fromMs && s.t < toMs && (kind === undefined || s.kind === kind));
}

export function phaseFigures(samples: readonly Sample[], fromMs: number, toMs: number): PhaseFigures {
  const w = windowOf(samples, fromMs, toMs);
  return { all: figures(w), mirror: figures(w.filter((s) => s.kind === 'mirror')), canary: figures(w.filter((s) => s.kind === 'canary')) };
}
