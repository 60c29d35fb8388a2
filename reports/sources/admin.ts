/**
 * `--admin URL`: a proxy's admin API. Diffs (`GET /admin/diffs`: the verifier's aggregate when
 * it serves one, else its recent verdicts, aggregated here), traffic (`GET /admin/stats`),
 * history (`GET /admin/history`) and waivers (`GET /admin/state`).
 */
import type { HistoryEntry, RolloutState, Waiver } from '../../shared/state/types.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { Aggregator } from '../../verifier/aggregate.js';
import type { AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { reportSourceError } from '../errors.js';

const TIMEOUT_MS = 10_000;
/** The most verdicts the admin API hands out in one answer. */
const DIFFS_LIMIT = 1000;

export interface AdminResult {
  aggregate: AggregateSnapshot;
  stats: StatsSnapshot | null;
  history: HistoryEntry[];
  waivers: Waiver[];
  verdicts: Map<string, Verdict>;
  /** Says what the diffs cover (`aggregate of all pairs` or `the N most recent verdicts`). */
  coverage: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

async function getJson(base: string, path: string, token: string | undefined, optional = false): Promise<unknown> {
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw reportSourceError('--admin', `cannot reach ${url}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message ?? (err as Error).cause) : (err as Error).message} (is the proxy's admin plane running?)`, err);
  }
  const text = await res.text();
  if (res.status === 404 && optional) return undefined;
  if (!res.ok) {
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the text
    }
    const hint = res.status === 401 || res.status === 403 ? ' (pass the admin token with --token or $CUTOVER_ADMIN_TOKEN)' : '';
    throw reportSourceError('--admin', `${url} answered ${res.status}: ${message}${hint}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw reportSourceError('--admin', `${url} did not answer JSON`, err);
  }
}

function verdictsOf(body: unknown): Verdict[] {
  const list = Array.isArray(body) ? body : isObj(body) ? (body.diffs ?? body.verdicts ?? body.items) : undefined;
  if (!Array.isArray(list)) return [];
  return list.filter((v): v is Verdict => isObj(v) && typeof v.pairId === 'string' && typeof v.route === 'string' && Array.isArray(v.findings) && isObj(v.status) && isObj(v.latencyMs));
}

function isAggregate(v: unknown): v is AggregateSnapshot {
  return isObj(v) && Array.isArray(v.routes) && typeof v.schemaVersion === 'number';
}

export async function readAdmin(baseUrl: string, opts: { token?: string; since?: string | null } = {}): Promise<AdminResult> {
  const base = baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(base)) throw reportSourceError('--admin', `must be an http:// or https:// URL (got ${JSON.stringify(baseUrl)})`);
  const since = opts.since ? `&since=${encodeURIComponent(opts.since)}` : '';
  const [diffs, summary, stats, history, state] = await Promise.all([
    getJson(base, `/admin/diffs?limit=${DIFFS_LIMIT}${since}`, opts.token),
    getJson(base, '/admin/diffs/summary', opts.token, true),
    getJson(base, '/admin/stats', opts.token, true),
    getJson(base, '/admin/history?limit=100000', opts.token, true),
    getJson(base, '/admin/state', opts.token, true),
  ]);

  const verdicts = verdictsOf(diffs);
  let aggregate: AggregateSnapshot;
  let coverage: string;
  // The proxy's aggregate covers every pair it verified; with --since only the recent verdicts can be cut by time.
  const served = opts.since ? undefined : isObj(summary) ? summary.aggregate : isObj(diffs) ? (diffs.aggregate ?? diffs.snapshot) : undefined;
  if (isAggregate(served)) {
    aggregate = served;
    coverage = 'the verifier aggregate of all pairs';
  } else {
    const agg = new Aggregator({ source: `admin ${base}`, random: () => 0 });
    const sinceMs = opts.since ? Date.parse(opts.since) : -Infinity;
    for (const v of [...verdicts].reverse()) if (!(Date.parse(v.at) < sinceMs)) agg.record(v);
    aggregate = agg.snapshot();
    coverage = `the ${verdicts.length} most recent verdicts the proxy keeps`;
  }
  const entries = isObj(history) && Array.isArray(history.entries) ? (history.entries as HistoryEntry[]) : [];
  const st = isObj(state) && isObj(state.state) ? (state.state as unknown as RolloutState) : undefined;
  return {
    aggregate,
    stats: isObj(stats) && isObj(stats.routes) ? (stats as unknown as StatsSnapshot) : null,
    history: entries,
    waivers: Array.isArray(st?.waivers) ? st.waivers : [],
    verdicts: new Map(verdicts.map((v) => [v.pairId, v])),
    coverage,
  };
}
