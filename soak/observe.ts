/**
 * What the suite reads from the running system: RSS per process (/proc), each replica's applied
 * state and counters (admin plane), and the services' request counters and idempotency records.
 */
import { readFileSync } from 'node:fs';
import { ADMIN_TOKEN } from './cluster.js';

export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

async function getJson(url: string, timeoutMs = 2000): Promise<any> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!r.ok) throw new Error(`${url}: status ${r.status}`);
  return r.json();
}

export interface ReplicaView {
  id: string;
  version: number | null;
  epoch: string | null;
  storeUp: boolean | null;
  routes: Record<string, { mode: string; weight: number }> | null;
  error?: string;
}

export async function replicaState(id: string, adminUrl: string): Promise<ReplicaView> {
  try {
    const s = await getJson(`${adminUrl}/admin/state`, 1000);
    return { id, version: s.appliedVersion ?? null, epoch: s.state?.epoch ?? null, storeUp: s.storeUp ?? null, routes: s.state?.routes ?? null };
  } catch (err) {
    return { id, version: null, epoch: null, storeUp: null, routes: null, error: (err as Error).message };
  }
}

/** Converged: every replica answers, its store is up, and all hold the same version and epoch. */
export function converged(views: ReplicaView[]): boolean {
  if (views.length === 0 || views.some((v) => v.version === null || v.storeUp !== true)) return false;
  return views.every((v) => v.version === views[0].version && v.epoch === views[0].epoch);
}

export interface ShadowCounts {
  sent: number;
  dropped: number;
  timeouts: number;
  errors: number;
  skippedUnsafe: number;
  pairsDropped: number;
  /** Pairs the verifier pipeline took in, and dropped (queue full, closed, worker error, sink file/Redis). */
  verifierAccepted: number;
  verifierDropped: number;
  diffs: { pairs: number; match: number; mismatch: number; noise: number; error: number };
}

export function zeroShadow(): ShadowCounts {
  return { sent: 0, dropped: 0, timeouts: 0, errors: 0, skippedUnsafe: 0, pairsDropped: 0, verifierAccepted: 0, verifierDropped: 0, diffs: { pairs: 0, match: 0, mismatch: 0, noise: 0, error: 0 } };
}

/** Sums a Prometheus text counter by one label, over every series of `name`. */
export function sumCounterBy(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = new RegExp(`${label}="([^"]*)"`).exec(line);
    const key = m ? m[1] : '';
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) out[key] = (out[key] ?? 0) + v;
  }
  return out;
}

/** Shadow outcomes and verifier counts of one replica since it started (its cumulative /metrics counters). */
export async function shadowCounts(adminUrl: string): Promise<ShadowCounts | undefined> {
  try {
    const [r, health] = await Promise.all([fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) }), getJson(`${adminUrl}/healthz`)]);
    if (!r.ok) return undefined;
    const text = await r.text();
    const sh = sumCounterBy(text, 'cutover_shadow_total', 'outcome');
    const df = sumCounterBy(text, 'cutover_diffs_total', 'result');
    const pd = sumCounterBy(text, 'cutover_pairs_dropped_total', 'none');
    const out = zeroShadow();
    out.sent = sh.sent ?? 0;
    out.dropped = sh.dropped ?? 0;
    out.timeouts = sh.timeout ?? 0;
    out.errors = sh.error ?? 0;
    out.skippedUnsafe = sh.skipped_unsafe ?? 0;
    out.pairsDropped = pd[''] ?? 0;
    const v = health.verifier as { accepted?: number; dropped?: Record<string, number> } | null;
    out.verifierAccepted = v?.accepted ?? 0;
    out.verifierDropped = Object.values(v?.dropped ?? {}).reduce((a, b) => a + b, 0);
    for (const k of ['match', 'mismatch', 'noise', 'error'] as const) out.diffs[k] = df[k] ?? 0;
    out.diffs.pairs = Object.values(df).reduce((a, b) => a + b, 0);
    return out;
  } catch {
    return undefined;
  }
}

export function addShadow(a: ShadowCounts, b: ShadowCounts): ShadowCounts {
  const d = { ...a.diffs };
  for (const k of Object.keys(d) as Array<keyof ShadowCounts['diffs']>) d[k] += b.diffs[k];
  return {
    sent: a.sent + b.sent,
    dropped: a.dropped + b.dropped,
    timeouts: a.timeouts + b.timeouts,
    errors: a.errors + b.errors,
    skippedUnsafe: a.skippedUnsafe + b.skippedUnsafe,
    pairsDropped: a.pairsDropped + b.pairsDropped,
    verifierAccepted: a.verifierAccepted + b.verifierAccepted,
    verifierDropped: a.verifierDropped + b.verifierDropped,
    diffs: d,
  };
}

export function subShadow(a: ShadowCounts, b: ShadowCounts): ShadowCounts {
  const neg = JSON.parse(JSON.stringify(b)) as ShadowCounts;
  for (const k of ['sent', 'dropped', 'timeouts', 'errors', 'skippedUnsafe', 'pairsDropped', 'verifierAccepted', 'verifierDropped'] as const) neg[k] = -neg[k];
  for (const k of Object.keys(neg.diffs) as Array<keyof ShadowCounts['diffs']>) neg.diffs[k] = -neg.diffs[k];
  return addShadow(a, neg);
}

export interface ServiceCounts {
  /** POST /transactions requests received, and those carrying x-cutover-shadow. */
  posts: number;
  postsShadow: number;
  /** Requests carrying x-cutover-shadow on any route. */
  shadowTotal: number;
  total: number;
  appliedMoreThanOnce: number;
  postingsTotal: number;
  appliedByV2: number;
  /** Idempotency keys whose record saw more than one request (retries honoured). */
  keysRequestedMoreThanOnce: number;
}

export async function serviceCounts(url: string): Promise<ServiceCounts | undefined> {
  try {
    const [req, post] = await Promise.all([getJson(`${url}/_admin/requests`), getJson(`${url}/_admin/postings`, 5000)]);
    const p = req.byRoute?.['POST /transactions'] ?? { count: 0, shadow: 0 };
    return {
      posts: p.count,
      postsShadow: p.shadow,
      shadowTotal: req.shadow,
      total: req.total,
      appliedMoreThanOnce: post.appliedMoreThanOnce,
      postingsTotal: post.total,
      appliedByV2: post.appliedByV2,
      keysRequestedMoreThanOnce: (post.postings as Array<{ requests?: number }>).filter((x) => (x.requests ?? 1) > 1).length,
    };
  } catch {
    return undefined;
  }
}

/** A proxy's V8 heap and external memory from its /metrics (prom-client default metrics), MB. */
export async function proxyHeapMb(adminUrl: string): Promise<{ heapUsed: number; heapTotal: number; external: number } | undefined> {
  try {
    const r = await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await r.text();
    const one = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
      return m ? Math.round((Number(m[1]) / 1048576) * 10) / 10 : NaN;
    };
    return { heapUsed: one('nodejs_heap_size_used_bytes'), heapTotal: one('nodejs_heap_size_total_bytes'), external: one('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}
