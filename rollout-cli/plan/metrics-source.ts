/**
 * Where the analysis gets its numbers. The default reads `GET /admin/stats?window=Ns` from
 * every live proxy replica (the registry's `adminUrl`s, or the plan's `admin:` list) and
 * merges the snapshots exactly. The `prometheus` source (prometheus-source.ts) reads the same
 * numbers through PromQL.
 */
import { DEFAULT_STALE_MS } from '../../shared/state/acks.js';
import type { StateStore } from '../../shared/state/types.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { prometheusSource } from './prometheus-source.js';
import { mergeSnapshots } from './merge-stats.js';
import type { MetricsSourceSettings } from './schema.js';

export interface MetricsWindow {
  /** Merged over every replica that answered. */
  stats: StatsSnapshot;
  /** Admin URLs that answered. */
  answered: string[];
  /** Replicas that did not, and why. */
  failed: Array<{ url: string; error: string }>;
}

export interface MetricsSource {
  readonly kind: string;
  /** Stats over the last `windowSeconds` (the proxies keep 1-second slices; the current one is partial). */
  read(windowSeconds: number): Promise<MetricsWindow>;
}

export interface ProxiesSourceOptions {
  store: StateStore;
  /** Explicit admin URLs (plan `admin:`); otherwise the live replicas of the registry. */
  adminUrls?: readonly string[];
  token?: string;
  timeoutMs?: number;
  staleMs?: number;
}

function isSnapshot(x: unknown): x is StatsSnapshot {
  return !!x && typeof x === 'object' && typeof (x as StatsSnapshot).routes === 'object' && (x as StatsSnapshot).routes !== null;
}

export function proxiesSource(opts: ProxiesSourceOptions): MetricsSource {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;

  async function targets(): Promise<{ urls: string[]; failed: MetricsWindow['failed'] }> {
    if (opts.adminUrls?.length) return { urls: [...opts.adminUrls], failed: [] };
    const now = Date.now();
    const live = (await opts.store.replicas()).filter((r) => now - Date.parse(r.lastSeen) <= staleMs);
    const urls: string[] = [];
    const failed: MetricsWindow['failed'] = [];
    for (const r of live) {
      if (r.adminUrl) urls.push(r.adminUrl);
      else failed.push({ url: `replica ${r.id}`, error: 'registered without an adminUrl' });
    }
    return { urls: [...new Set(urls)], failed };
  }

  async function fetchOne(base: string, windowSeconds: number): Promise<StatsSnapshot> {
    const url = `${base.replace(/\/+$/, '')}/admin/stats?window=${windowSeconds}s`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    const body: unknown = JSON.parse(text);
    if (!isSnapshot(body)) throw new Error('the answer is not a stats snapshot (no routes)');
    return body;
  }

  return {
    kind: 'proxies',
    async read(windowSeconds) {
      const { urls, failed } = await targets();
      const results = await Promise.allSettled(urls.map((u) => fetchOne(u, windowSeconds)));
      const snaps: StatsSnapshot[] = [];
      const answered: string[] = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          snaps.push(r.value);
          answered.push(urls[i]);
        } else {
          const e = r.reason as Error;
          failed.push({ url: urls[i], error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message) });
        }
      });
      return { stats: mergeSnapshots(snaps), answered, failed };
    },
  };
}

export function openMetricsSource(settings: MetricsSourceSettings, opts: ProxiesSourceOptions): MetricsSource {
  if (settings === 'proxies') return proxiesSource(opts);
  // PromQL over what Prometheus scraped from every replica's /metrics (prometheus-source.ts).
  return prometheusSource(settings.prometheus);
}
