/** The CI gates of `cutover report` (pure): which routes break the asked-for limits. */
import { fmtInt, fmtPct } from './format.js';
import type { Gate, ReportModel } from './model.js';

export interface GateOptions {
  maxMismatchRate?: number | null;
  failOnOpenFindings?: boolean;
}

export function evaluateGate(model: Omit<ReportModel, 'gate'>, opts: GateOptions): Gate {
  const failures: string[] = [];
  const max = opts.maxMismatchRate ?? null;
  if (max !== null) {
    for (const r of model.routes) {
      if (r.mismatchRate > max) failures.push(`${r.name}: mismatch rate ${fmtPct(r.mismatchRate)} > ${fmtPct(max)} (${fmtInt(r.mismatching)} of ${fmtInt(r.pairs - r.errors)} compared pairs)`);
    }
  }
  if (opts.failOnOpenFindings) {
    for (const r of model.routes) {
      const open = r.paths.filter((p) => p.status === 'open');
      if (open.length > 0 || r.mismatching > 0) {
        const top = open
          .slice(0, 3)
          .map((p) => `${p.path} (${p.kind}, ${fmtInt(p.openCount)})`)
          .join(', ');
        failures.push(`${r.name}: ${fmtInt(Math.max(open.length, r.counts.openPaths))} open finding path(s)${top ? `: ${top}` : ''}`);
      }
    }
  }
  return { maxMismatchRate: max, failOnOpenFindings: !!opts.failOnOpenFindings, failed: failures.length > 0, failures };
}
