/**
 * The proxy's structured log on pino (the logger Fastify ships with): one JSON object per line
 * on stderr, `level` as a word and `time` in ISO 8601, secrets masked by the same test every
 * other sink uses (shared/secrets.ts): the value of any field, at any depth, whose name is a
 * configured name or contains a secret pattern (so a `headers` object loses its credentials),
 * and secret query values in `url`/`path`/`target` fields. Lines about a request carry its `trace_id` and, when
 * tracing is on, `span_id` (proxy/trace-ids.ts).
 *
 * Also here, fed by the proxy's events: a debug line per proxied request (only subscribed at
 * level debug), and one line per applied state change or rollback with its reason.
 */
import pino from 'pino';
import { channels } from '../shared/events.js';
import { REDACTED, secretNames, type SecretNames } from '../shared/secrets.js';
import type { HistoryEntry, RolloutState, StateStore } from '../shared/state/types.js';
import type { Logger, LogLevel } from './log.js';
import { isValidTraceparent } from './headers.js';
import { setTraceIds, traceFields } from './trace-ids.js';

export const LOG_REDACTED = REDACTED;

export interface ProxyLoggerOptions {
  /** Default: CUTOVER_LOG_LEVEL, else info. */
  level?: LogLevel;
  /** Names whose values never appear in a line (default: the config's default list). */
  redactHeaders?: readonly string[];
  /** Name fragments that make a field a secret (default: the config's default list). */
  redactPatterns?: readonly string[];
  /** Where lines go (default: stderr, synchronously). */
  write?: (line: string) => void;
  /** Fields on every line (replica id...). */
  base?: Record<string, unknown>;
}

export interface ProxyLogger extends Logger {
  readonly level: LogLevel;
  readonly pino: pino.Logger;
}

function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = errorFields(err.cause);
  return out;
}

const URL_FIELDS = new Set(['url', 'path', 'target']);

/** A copy of a log line's fields with secrets masked (copy-on-write: unchanged objects are returned as they are). */
export function maskLogFields(fields: Record<string, unknown>, secrets: SecretNames): Record<string, unknown> {
  const masked = secrets.json(fields) as Record<string, unknown>;
  let out = masked;
  for (const k of Object.keys(masked)) {
    const v = masked[k];
    if (URL_FIELDS.has(k) && typeof v === 'string') {
      const u = secrets.url(v);
      if (u !== v) (out === fields || out === masked ? (out = { ...masked }) : out)[k] = u;
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && k !== 'err') {
      const inner = maskLogFields(v as Record<string, unknown>, secrets);
      if (inner !== v) (out === fields || out === masked ? (out = { ...masked }) : out)[k] = inner;
    }
  }
  return out;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function createProxyLogger(opts: ProxyLoggerOptions = {}): ProxyLogger {
  const envLevel = process.env.CUTOVER_LOG_LEVEL as LogLevel | undefined;
  const level: LogLevel = opts.level ?? (envLevel && LEVELS.includes(envLevel) ? envLevel : 'info');
  const secrets = secretNames({ headers: opts.redactHeaders, patterns: opts.redactPatterns });
  const write = opts.write;
  const destination = write ? { write } : pino.destination({ dest: 2, sync: true });
  const p = pino(
    {
      level,
      base: opts.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (fields) => maskLogFields(fields, secrets) },
      serializers: { err: errorFields },
    },
    destination,
  );
  return {
    level,
    pino: p,
    log(lvl, msg, fields) {
      if (fields) p[lvl](fields, msg);
      else p[lvl](msg);
    },
  };
}

/**
 * At level debug, one line per upstream answer (route, upstream name and side, status, duration,
 * redacted request headers, trace ids). Returns the unsubscribe function; does nothing at other levels.
 */
export function logRequests(log: ProxyLogger): () => void {
  if (log.level !== 'debug') return () => undefined;
  const onRequest = (msg: unknown) => {
    const m = msg as { request: object; headers: Record<string, unknown> };
    const tp = m.headers.traceparent;
    if (traceFields(m.request) === undefined && isValidTraceparent(tp)) setTraceIds(m.request, { trace_id: tp.substring(3, 35) });
  };
  const onResponded = (msg: unknown) => {
    const m = msg as {
      route: string;
      upstream: string;
      upstreamName?: string;
      status: number;
      durationMs: number;
      error?: string;
      request?: { method: string; url: string; headers: Record<string, unknown> };
    };
    const r = m.request;
    if (r === undefined) return;
    log.log('debug', 'request answered', {
      route: m.route,
      upstream: m.upstreamName ?? m.upstream,
      side: m.upstream,
      method: r.method,
      url: r.url,
      status: m.status,
      durationMs: Math.round(m.durationMs * 1000) / 1000,
      ...(m.error ? { error: m.error } : {}),
      headers: r.headers,
      ...traceFields(r),
    });
  };
  channels.upstreamRequest.subscribe(onRequest);
  channels.upstreamResponded.subscribe(onResponded);
  return () => {
    channels.upstreamRequest.unsubscribe(onRequest);
    channels.upstreamResponded.unsubscribe(onResponded);
  };
}

export interface StateChangeLine {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** What changed between two applied states, route by route (pure). */
export function routeChanges(prev: RolloutState | undefined, next: RolloutState): Array<{ route: string; from?: string; to: string }> {
  const out: Array<{ route: string; from?: string; to: string }> = [];
  const show = (r: { mode: string; weight: number } | undefined) => (r === undefined ? undefined : r.mode === 'canary' ? `canary ${r.weight}` : r.mode);
  for (const route of Object.keys(next.routes).sort()) {
    const from = show(prev?.routes[route]);
    const to = show(next.routes[route])!;
    if (from !== to) out.push(from === undefined ? { route, to } : { route, from, to });
  }
  return out;
}

/**
 * The line for one applied state (pure): a rollback (the state became aborted) is a warning
 * with the abort's reason; any other change says who made it, what changed and why (from its
 * history entry, when found).
 */
export function stateChangeLine(prev: RolloutState | undefined, next: RolloutState, entry: HistoryEntry | undefined): StateChangeLine {
  const fields: Record<string, unknown> = {
    version: next.version,
    previousVersion: prev?.version ?? 0,
    by: next.updatedBy,
    action: entry?.action,
    reason: entry?.reason,
    changes: routeChanges(prev, next),
  };
  if (next.plan) fields.planStep = next.plan.step + 1;
  if (next.aborted && !prev?.aborted) {
    return { level: 'warn', msg: 'rollout rolled back: every route to legacy', fields: { ...fields, action: entry?.action ?? 'abort', reason: next.abortReason ?? entry?.reason } };
  }
  if (fields.reason === undefined) delete fields.reason;
  if (fields.action === undefined) delete fields.action;
  return { level: 'info', msg: 'rollout state applied', fields: { ...fields, paused: next.paused, aborted: next.aborted } };
}

/**
 * Log one applied state with its reason: the reason lives in the store's history, read here
 * (bounded: the last 20 entries, 2 s); a failed read still logs the line, without the reason.
 */
export async function logStateChange(log: Logger, prev: RolloutState | undefined, next: RolloutState, store: Pick<StateStore, 'history'>): Promise<void> {
  let entry: HistoryEntry | undefined;
  if (!(next.aborted && !prev?.aborted && next.abortReason)) {
    try {
      const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no answer within 2 s')), 2000).unref());
      const entries = await Promise.race([store.history({ limit: 20 }), timeout]);
      entry = entries.filter((e) => e.version === next.version && e.changes.length > 0).pop() ?? entries.filter((e) => e.version === next.version).pop();
    } catch {
      // logged without its reason
    }
  }
  const line = stateChangeLine(prev, next, entry);
  log.log(line.level, line.msg, line.fields);
}
