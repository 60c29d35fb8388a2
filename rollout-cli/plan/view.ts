/**
 * The three faces of `cutover run`: NDJSON events (`--json`), plain lines (no TTY), and a live
 * view redrawn in place on a TTY (step k of n, weight per route, time left in the hold, the
 * last checks with their numbers).
 */
import type { CheckResult } from './analysis.js';
import { formatDuration } from './duration.js';
import { RUN_EVENTS_SCHEMA_VERSION, type Reporter, type RouteView, type RunEvent } from './events.js';

type Write = (text: string) => void;

export class JsonReporter implements Reporter {
  constructor(private readonly write: Write) {}
  emit(event: RunEvent): void {
    this.write(`${JSON.stringify({ schemaVersion: RUN_EVENTS_SCHEMA_VERSION, at: new Date().toISOString(), ...event })}\n`);
  }
  close(): void {}
}

interface Paint {
  ok(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const plainPaint: Paint = { ok: (s) => s, bad: (s) => s, warn: (s) => s, dim: (s) => s, bold: (s) => s };
const ansiPaint: Paint = {
  ok: (s) => `\x1b[32m${s}\x1b[39m`,
  bad: (s) => `\x1b[31m${s}\x1b[39m`,
  warn: (s) => `\x1b[33m${s}\x1b[39m`,
  dim: (s) => `\x1b[2m${s}\x1b[22m`,
  bold: (s) => `\x1b[1m${s}\x1b[22m`,
};

function routesLine(routes: RouteView): string {
  const parts = Object.entries(routes).map(([name, r]) => (r.mode === 'canary' ? `${name} ${r.weight}%` : `${name} ${r.mode}`));
  return parts.join(', ') || '(no routes)';
}

function verdictWord(v: string, p: Paint): string {
  const w = v.toUpperCase();
  return v === 'pass' ? p.ok(w) : v === 'fail' ? p.bad(w) : p.warn(w);
}

function checkLine(c: CheckResult, p: Paint): string {
  return `${verdictWord(c.status, p)} ${c.reason}`;
}

/** `3 pass, 1 fail, 0 inconclusive` */
export function checkCounts(checks: ReadonlyArray<CheckResult>): string {
  const count = (v: string) => checks.filter((c) => c.status === v).length;
  return `${count('pass')} pass, ${count('fail')} fail, ${count('inconclusive')} inconclusive`;
}

/** One line per interval: the verdict, the counts, and what decided a verdict other than pass. */
export function checkSummary(e: Extract<RunEvent, { type: 'check' }>, p: Paint = plainPaint): string {
  const head = `check step ${e.step} of ${e.of} (last ${e.windowSeconds}s, ${e.replicas.length} replica${e.replicas.length === 1 ? '' : 's'}): ${verdictWord(e.verdict, p)}`;
  if (e.checks.length === 0) return `${head} (no check applies${e.noTraffic?.length ? `: no traffic at all on ${e.noTraffic.join(', ')}` : ': no V2 sample to judge'})`;
  const deciding = e.verdict === 'pass' ? [] : e.checks.filter((c) => c.status === e.verdict);
  const why = deciding.length ? `: ${deciding[0]!.reason}${deciding.length > 1 ? ` (+${deciding.length - 1} more)` : ''}` : '';
  return `${head} ${checkCounts(e.checks)}${why}`;
}

/** One line (or a few) per event, for logs and pipes. */
export function describeEvent(e: RunEvent, p: Paint = plainPaint): string[] {
  switch (e.type) {
    case 'start':
      return [
        `cutover run${e.dryRun ? ' (dry run: nothing changes)' : ''}: plan ${e.planId}, ${e.steps} steps, store ${e.store}, metrics from ${e.metricsSource}, driver ${e.holder}${e.resumedAt !== undefined ? `; resuming at step ${e.resumedAt} of ${e.steps}` : ''}`,
        ...(e.driven
          ? [
              `the plan names no routes: it drives ${e.driven.routes.join(', ') || '(none)'}`,
              ...e.driven.left.map((l) => `  not ${l.route}: ${l.why}`),
              ...(e.driven.note ? [`  ${e.driven.note}`] : []),
            ]
          : []),
      ];
    case 'step':
      return [`${p.bold(`step ${e.step} of ${e.of}`)}: ${e.description}${e.dryRun ? ' (dry run)' : ''} -> ${routesLine(e.routes)}`];
    case 'check':
      return [
        checkSummary(e, p),
        ...e.checks.map((c) => `  ${checkLine(c, p)}`),
        ...e.skipped.map((s) => `  ${p.dim(`skipped: ${s}`)}`),
      ];
    case 'critical':
      return [`critical check (last ${e.windowSeconds}s): ${verdictWord(e.verdict, p)}`, ...e.checks.filter((c) => c.status === 'fail').map((c) => `  ${checkLine(c, p)}`)];
    case 'hold':
      return [`hold: ${e.reason}${e.remainingMs ? ` (${formatDuration(e.remainingMs)} left)` : ''}`];
    case 'pause':
      return [p.warn(`paused: ${e.reason}`)];
    case 'unpause':
      return [`un-paused: ${e.reason}`];
    case 'promote':
      return [`promoted: ${e.reason}`];
    case 'no-traffic':
      return [
        p.warn(
          `no traffic at all on ${e.routes.join(', ')} in the last ${e.windowSeconds}s (neither legacy nor V2 served a request): nothing to judge there, so its checks stay inconclusive; check that requests reach the proxy and match the route, or leave the route out of the plan`,
        ),
      ];
    case 'gate':
      return [`gate for step ${e.step} of ${e.of}: ${e.open ? p.ok('open') : p.warn('closed, holding')}${e.status ? ` (HTTP ${e.status})` : ''}${e.error ? ` (${e.error})` : ''}`];
    case 'webhook':
      return e.ok ? [p.dim(`webhook ${e.hook}: HTTP ${e.status}`)] : [p.warn(`webhook ${e.hook} failed after ${e.attempts} attempt(s): ${e.error ?? `HTTP ${e.status}`}`)];
    case 'rollback':
      return [
        p.bad(`ROLLBACK at step ${e.step} of ${e.of}${e.critical ? ' (critical breach)' : ''}: ${e.reason}`),
        e.applied
          ? `  every live replica applied the abort${e.elapsedMs !== undefined ? ` in ${Math.round(e.elapsedMs)} ms` : ''}`
          : p.bad(`  not applied by: ${e.notApplied.join(', ') || '(unknown)'}`),
      ];
    case 'complete':
      return [p.ok(`plan complete (${e.steps} steps): ${routesLine(e.routes)}`)];
    case 'aborted':
      return [p.bad(`the rollout was aborted at step ${e.step} of ${e.of}${e.by ? ` by ${e.by}` : ''}: ${e.reason}`)];
    case 'warning':
      return [p.warn(`warning: ${e.message}`)];
    case 'would':
      return [`would ${e.action} (step ${e.step} of ${e.of})`];
    case 'stop':
      return [`${e.exitCode === 0 ? 'done' : 'stopped'}: ${e.reason} (exit ${e.exitCode})`];
  }
}

export const PAUSED_REMINDER_MS = 60_000;

/**
 * For logs and pipes: a line when the run's state changes (step, hold, pause, un-pause,
 * promote, rollback), one line per interval for the checks (the counts, and what decided a
 * verdict other than pass; every check is in `--json`), and while the rollout is paused a
 * one-line reminder every `pausedReminderMs` (the run is waiting for a human).
 */
export class PlainReporter implements Reporter {
  private lastHold = '';
  private paused: { since: number; step: number; of: number; reason: string; toldAt: number } | undefined;
  private readonly now: () => number;
  private readonly reminderMs: number;

  constructor(
    private readonly write: Write,
    opts: { pausedReminderMs?: number; now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.reminderMs = opts.pausedReminderMs ?? PAUSED_REMINDER_MS;
  }

  emit(e: RunEvent): void {
    this.remind();
    switch (e.type) {
      case 'hold':
        // Holds repeat every tick: print when the reason changes; while paused the reminder speaks.
        if (e.reason === this.lastHold || this.paused) return;
        this.lastHold = e.reason;
        break;
      case 'critical':
        if (e.verdict !== 'fail') return;
        break;
      case 'check':
        this.line(checkSummary(e));
        return;
      case 'step':
        this.lastHold = '';
        this.paused = undefined;
        break;
      case 'pause':
        this.paused = { since: this.now(), toldAt: this.now(), step: e.step, of: e.of, reason: e.reason };
        break;
      case 'unpause':
      case 'promote':
      case 'aborted':
      case 'rollback':
      case 'stop':
        this.paused = undefined;
        this.lastHold = '';
        break;
      default:
        break;
    }
    this.line(describeEvent(e).join('\n'));
  }

  private remind(): void {
    const t = this.now();
    if (!this.paused || t - this.paused.toldAt < this.reminderMs) return;
    const p = this.paused;
    p.toldAt = t;
    const what = p.reason.includes('cutover promote') ? '' : '; `cutover promote` goes on, `cutover resume` keeps waiting, `cutover abort` stops';
    this.line(`still paused at step ${p.step} of ${p.of} (for ${formatDuration(t - p.since)}): ${p.reason}${what}`);
  }

  private line(text: string): void {
    this.write(`${text}\n`);
  }

  close(): void {}
}

/** Redraws a small block in place; events that matter also scroll above it as lines. */
export class TtyReporter implements Reporter {
  private readonly p: Paint;
  private drawn = 0;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private model: {
    header: string;
    step?: { step: number; of: number; description: string };
    routes: RouteView;
    hold?: { reason: string; remainingMs?: number; at: number };
    check?: Extract<RunEvent, { type: 'check' }>;
  } = { header: '', routes: {} };

  constructor(
    private readonly out: { write(s: string): unknown; columns?: number },
    opts: { color: boolean; redrawMs?: number },
  ) {
    this.p = opts.color ? ansiPaint : plainPaint;
    this.timer = setInterval(() => this.draw(), opts.redrawMs ?? 500);
    this.timer.unref();
  }

  emit(e: RunEvent): void {
    switch (e.type) {
      case 'start':
        this.model.header = describeEvent(e)[0];
        this.log(describeEvent(e, this.p));
        break;
      case 'step':
        this.model.step = { step: e.step, of: e.of, description: e.description };
        this.model.routes = e.routes;
        this.model.hold = undefined;
        this.log(describeEvent(e, this.p));
        break;
      case 'check':
        this.model.check = e;
        if (e.verdict !== 'pass') this.log(describeEvent(e, this.p).slice(0, 1 + e.checks.length));
        break;
      case 'hold':
        this.model.hold = { reason: e.reason, remainingMs: e.remainingMs, at: Date.now() };
        break;
      case 'critical':
        if (e.verdict === 'fail') this.log(describeEvent(e, this.p));
        break;
      case 'complete':
        this.model.routes = e.routes;
        this.log(describeEvent(e, this.p));
        break;
      case 'stop':
        // The last frame stays on screen, the outcome below it, and nothing is redrawn after.
        this.draw();
        this.drawn = 0;
        this.finished = true;
        this.out.write(`${describeEvent(e, this.p).join('\n')}\n`);
        return;
      default:
        this.log(describeEvent(e, this.p));
    }
    this.draw();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private log(lines: string[]): void {
    if (this.finished) {
      this.out.write(`${lines.join('\n')}\n`);
      return;
    }
    this.clear();
    this.out.write(`${lines.join('\n')}\n`);
  }

  private block(): string[] {
    const m = this.model;
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    // A wrapped line would break the cursor arithmetic of the redraw: cut to the width.
    const cut = (s: string) => {
      const visible = s.replace(/\x1b\[[0-9;]*m/g, '');
      return visible.length > width ? `${visible.slice(0, width - 3)}...` : s;
    };
    const lines: string[] = [this.p.dim('─'.repeat(Math.min(width, 60)))];
    if (m.step) lines.push(`${this.p.bold(`step ${m.step.step} of ${m.step.of}`)}: ${m.step.description}`);
    lines.push(`routes: ${routesLine(m.routes)}`);
    if (m.hold) {
      const left = m.hold.remainingMs !== undefined && m.hold.remainingMs > 0 ? Math.max(0, m.hold.remainingMs - (Date.now() - m.hold.at)) : undefined;
      lines.push(`${m.hold.reason}${left !== undefined ? `: ${formatDuration(left)} left in the hold` : ''}`);
    }
    if (m.check) {
      lines.push(`last check (${m.check.windowSeconds}s window): ${verdictWord(m.check.verdict, this.p)}`);
      for (const c of m.check.checks.slice(0, 8)) lines.push(`  ${checkLine(c, this.p)}`);
      if (m.check.checks.length > 8) lines.push(`  ... ${m.check.checks.length - 8} more`);
    }
    return lines.map(cut);
  }

  private draw(): void {
    if (this.finished) return;
    this.clear();
    const lines = this.block();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function makeReporter(opts: { json: boolean; stream: NodeJS.WriteStream; color?: boolean; pausedReminderMs?: number }): Reporter {
  const write = (s: string) => void opts.stream.write(s);
  if (opts.json) return new JsonReporter(write);
  if (opts.stream.isTTY) return new TtyReporter(opts.stream, { color: opts.color ?? !process.env.NO_COLOR });
  return new PlainReporter(write, { pausedReminderMs: opts.pausedReminderMs });
}
