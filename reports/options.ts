/**
 * The options of `cutover report`, checked in one pure function: every bad value is an
 * InputError naming the option (exit 2) before anything is read or written.
 */
import { reportInputError } from './errors.js';

export const REPORT_FORMATS = ['html', 'json', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export const DEFAULT_CONFIG_FILE = 'cutover.yaml';

export interface ReportRequest {
  admin?: string;
  state?: string;
  pairs?: string;
  history?: string;
  /** Config file; `configExplicit` false means the default name, which may be absent. */
  config: string;
  configExplicit: boolean;
  /** ISO 8601, resolved from a time or a duration before now. */
  since: string | null;
  format: ReportFormat;
  out?: string;
  maxMismatchRate: number | null;
  failOnOpenFindings: boolean;
  token?: string;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `2026-11-23T10:00:00Z`, or a duration before now: `90s`, `30m`, `6h`, `7d`. */
export function parseSince(text: string, nowMs: number): string {
  const t = text.trim();
  const m = DURATION.exec(t);
  if (m) return new Date(nowMs - Number(m[1]) * UNIT_MS[m[2]!]!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  throw reportInputError('--since', `must be an ISO 8601 time (2026-11-23T10:00:00Z) or a duration like 30m, 6h or 7d (got ${JSON.stringify(text)})`);
}

/** `0.001`, or a percentage `0.1%`; between 0 and 1. */
export function parseRate(text: string, field: string): number {
  const t = text.trim();
  const pct = t.endsWith('%');
  const body = pct ? t.slice(0, -1) : t;
  if (!/^\d+(\.\d+)?(e-?\d+)?$/i.test(body)) {
    throw reportInputError(field, `must be a rate between 0 and 1 (0.001) or a percentage (0.1%) (got ${JSON.stringify(text)})`);
  }
  const v = pct ? Number(body) / 100 : Number(body);
  if (!(v >= 0 && v <= 1)) throw reportInputError(field, `must be between 0 and 1 (or 0% and 100%) (got ${JSON.stringify(text)})`);
  return v;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseReportOptions(opts: Record<string, unknown>, nowMs: number = Date.now()): ReportRequest {
  const nonEmpty = (name: string, flag: string): string | undefined => {
    const v = opts[name];
    if (v === undefined || v === false) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw reportInputError(flag, 'needs a value');
    return v;
  };
  const admin = nonEmpty('admin', '--admin');
  const state = nonEmpty('state', '--state');
  const pairs = nonEmpty('pairs', '--pairs');
  const history = nonEmpty('history', '--history');
  if (admin && pairs) throw reportInputError('--pairs', 'cannot be combined with --admin: choose one source of diffs');
  if (state && history) throw reportInputError('--history', 'cannot be combined with --state: choose one source of history');
  if (!admin && !state && !pairs && !history) {
    throw reportInputError('--admin', 'name a source: --admin URL (a proxy), --pairs FILE (recorded pairs), --state URL or --history FILE (rollout history)');
  }
  if (admin && !/^https?:\/\/[^\s/]+/.test(admin)) throw reportInputError('--admin', `must be an http:// or https:// URL (got ${JSON.stringify(admin)})`);
  if (state && !/^(file|redis|rediss|redis\+sentinel|rediss\+sentinel):\/\/./.test(state)) throw reportInputError('--state', `must be a file://PATH or redis://HOST:PORT/DB URL (got ${JSON.stringify(state)})`);

  const formatRaw = str(opts.format) ?? 'html';
  if (!(REPORT_FORMATS as readonly string[]).includes(formatRaw)) {
    throw reportInputError('--format', `must be one of ${REPORT_FORMATS.join(', ')} (got ${JSON.stringify(formatRaw)})`);
  }
  const sinceRaw = nonEmpty('since', '--since');
  const rateRaw = opts.failOnMismatchRate;
  let maxMismatchRate: number | null = null;
  if (rateRaw !== undefined) {
    if (typeof rateRaw !== 'string') throw reportInputError('--fail-on-mismatch-rate', 'needs a value (a rate like 0.001 or 0.1%)');
    maxMismatchRate = parseRate(rateRaw, '--fail-on-mismatch-rate');
  }
  const config = str(opts.config) ?? DEFAULT_CONFIG_FILE;
  return {
    ...(admin ? { admin } : {}),
    ...(state ? { state } : {}),
    ...(pairs ? { pairs } : {}),
    ...(history ? { history } : {}),
    config,
    configExplicit: config !== DEFAULT_CONFIG_FILE,
    since: sinceRaw ? parseSince(sinceRaw, nowMs) : null,
    format: formatRaw as ReportFormat,
    ...(nonEmpty('out', '--out') ? { out: str(opts.out)! } : {}),
    maxMismatchRate,
    failOnOpenFindings: opts.failOnOpenFindings === true,
    ...(str(opts.token) ? { token: str(opts.token)! } : {}),
  };
}
