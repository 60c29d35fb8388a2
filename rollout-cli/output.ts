/**
 * How the control verbs print: colour on a TTY (never with NO_COLOR or TERM=dumb; FORCE_COLOR
 * forces it), aligned tables, and `--json` documents that always carry `schemaVersion`.
 */
import type { HistoryEntry } from '../shared/state/types.js';

export const OUTPUT_SCHEMA_VERSION = 1;

type Stream = NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown };

export function colorEnabled(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  if (env.TERM === 'dumb') return false;
  return Boolean(stream.isTTY);
}

export interface Painter {
  enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function painter(stream: Stream = process.stdout): Painter {
  const on = colorEnabled(stream);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled: on,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
export function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}

/** Columns aligned by their visible width; the last column is not padded. */
export function table(header: string[], rows: string[][], p: Painter = painter()): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [p.dim(line(header)), ...rows.map(line)].join('\n');
}

/** A `--json` document: `{ schemaVersion, ...payload }`, one JSON text on stdout. */
export function jsonDocument(payload: Record<string, unknown>): string {
  return JSON.stringify({ schemaVersion: OUTPUT_SCHEMA_VERSION, ...payload }, null, 2);
}

export function printJson(payload: Record<string, unknown>, stream: Stream = process.stdout): void {
  stream.write(jsonDocument(payload) + '\n');
}

/** One line, for NDJSON streams (status --watch --json). */
export function printJsonLine(payload: Record<string, unknown>, stream: Stream = process.stdout): void {
  stream.write(JSON.stringify({ schemaVersion: OUTPUT_SCHEMA_VERSION, ...payload }) + '\n');
}

export function println(s = '', stream: Stream = process.stdout): void {
  stream.write(s + '\n');
}

export function formatAge(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  return `${(ms / 3_600_000).toFixed(1)} h ago`;
}

function formatValue(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

type PlanLike = { planId?: string; step?: number; detail?: { status?: string; of?: number; promotedStep?: number; description?: string } } | null | undefined;

/** "step 2 of 4" from a stored plan position (its `step` is the step's index). */
export function planStepLabel(plan: PlanLike): string {
  if (!plan || typeof plan.step !== 'number') return 'no step';
  const of = typeof plan.detail?.of === 'number' ? ` of ${plan.detail.of}` : '';
  return `step ${plan.step + 1}${of}`;
}

/** A plan position change in words: `plan 1a2b3c4d: step 2 of 4 promoted (the rest of its hold or pause skipped)`. */
export function formatPlanChange(from: PlanLike, to: PlanLike): string {
  if (!to) return from ? `plan ${from.planId ?? '?'} cleared (was at ${planStepLabel(from)})` : 'plan (none)';
  const name = `plan ${to.planId ?? '?'}`;
  if (!from || from.planId !== to.planId) return `${name} started at ${planStepLabel(to)}${to.detail?.description ? ` (${to.detail.description})` : ''}`;
  if (to.detail?.promotedStep !== undefined && to.detail.promotedStep !== from.detail?.promotedStep) {
    return `${name}: ${planStepLabel(to)} promoted (the rest of its hold or pause skipped)`;
  }
  if (from.step !== to.step) return `${name}: ${planStepLabel(from)} -> ${planStepLabel(to)}${to.detail?.description ? ` (${to.detail.description})` : ''}`;
  if (from.detail?.status !== to.detail?.status) return `${name}: ${planStepLabel(to)} ${from.detail?.status ?? 'running'} -> ${to.detail?.status ?? 'running'}`;
  return `${name}: ${planStepLabel(to)} updated`;
}

function formatChange(c: HistoryEntry['changes'][number]): string {
  if (c.path === 'plan') return formatPlanChange(c.from as PlanLike, c.to as PlanLike);
  if (c.path === 'waivers') {
    const n = (v: unknown) => (Array.isArray(v) ? v.length : 0);
    return `waivers ${n(c.from)} -> ${n(c.to)}`;
  }
  if (c.path.startsWith('routes.') && c.path.split('.').length === 2) {
    const r = (v: unknown) => (v && typeof v === 'object' ? `${(v as { mode?: string }).mode ?? '?'}${(v as { mode?: string }).mode === 'canary' ? ` ${(v as { weight?: number }).weight}` : ''}` : '(none)');
    return `${c.path} ${r(c.from)} -> ${r(c.to)}`;
  }
  return `${c.path} ${formatValue(c.from)} -> ${formatValue(c.to)}`;
}

/** `routes.balance.weight 5 -> 10; paused false -> true`; a plan position in words, never as JSON. */
export function formatChanges(changes: HistoryEntry['changes']): string {
  if (changes.length === 0) return '(no change)';
  return changes.map(formatChange).join('; ');
}

/** One history entry as one line (history, status --watch). */
export function formatHistoryLine(e: HistoryEntry, p: Painter = painter()): string {
  const action = e.action === 'abort' ? p.red(e.action) : e.action === 'resume' ? p.green(e.action) : p.bold(e.action);
  // A change made by service names it: `abort by ann (service statements-v2): ...`.
  const upstream = typeof e.data?.upstream === 'string' ? ` (service ${e.data.upstream})` : '';
  let s = `${e.at}  v${e.version}  ${action} by ${e.by}${upstream}: ${formatChanges(e.changes)}`;
  if (e.reason) s += `  reason: "${e.reason}"`;
  if (e.ticket) s += `  ticket: ${e.ticket}`;
  return s;
}
