/**
 * Stats by upstream name: each route says its two services, `byUpstream` sums every route side a
 * service is on, and snapshots of several replicas merge into exactly what one replica that saw
 * every request would report (counters and latency histograms, percentiles included).
 */
import { describe, expect, it } from 'vitest';
import { LEGACY, ProxyStats, V2 } from '../../proxy/stats.js';
import { mergeSnapshots } from '../../rollout-cli/plan/merge-stats.js';
import { Histogram } from '../../shared/stats/histogram.js';

const ROUTES = ['transactions', 'statements', 'transfers', 'default'];
const SIDES = [
  { legacy: 'legacy', v2: 'transactions-v2' },
  { legacy: 'legacy', v2: 'statements-v2' },
  { legacy: 'transactions-v2', v2: 'wallets-v2' },
  { legacy: 'legacy', v2: 'statements-v2' },
];
const now = () => 1_700_000_000_000;
const stats = () => new ProxyStats(ROUTES, { windowSeconds: 60, now, upstreams: SIDES });

describe('ProxyStats by upstream', () => {
  it('names each route its services and sums each service over the route sides it serves', () => {
    const s = stats();
    s.recordServed(0, V2, 200, 1_000); // transactions-v2
    s.recordServed(2, LEGACY, 200, 3_000); // transactions-v2 again, as the legacy side of transfers
    s.recordFailure(2, V2, 'timeout'); // wallets-v2
    s.recordServed(1, LEGACY, 404, 2_000); // legacy
    s.recordServed(3, LEGACY, 200, 2_000); // legacy (default route)
    const snap = s.snapshot(60, { replicaId: 'r', appliedVersion: 1 });
    expect(snap.routes.transfers!.upstreams).toEqual({ legacy: 'transactions-v2', v2: 'wallets-v2' });
    const by = snap.byUpstream!;
    expect(Object.keys(by).sort()).toEqual(['legacy', 'statements-v2', 'transactions-v2', 'wallets-v2']);
    expect([by['transactions-v2']!.requests, by['transactions-v2']!.s2xx, by['transactions-v2']!.latency.count]).toEqual([2, 2, 2]);
    expect([by['wallets-v2']!.requests, by['wallets-v2']!.s5xx, by['wallets-v2']!.timeouts]).toEqual([1, 1, 1]);
    expect([by.legacy!.requests, by.legacy!.s4xx, by.legacy!.s2xx]).toEqual([2, 1, 1]);
    expect(by['statements-v2']!.requests).toBe(0);
  });

  it('merges replicas into exactly what one replica seeing every request reports', () => {
    const replicas = [stats(), stats(), stats()];
    const whole = stats();
    for (let i = 0; i < 3000; i++) {
      const route = i % 4;
      const side = i % 3 === 0 ? V2 : LEGACY;
      const micros = 200 + ((i * 7919) % 90_000);
      const status = i % 17 === 0 ? 503 : 200;
      replicas[i % 3]!.recordServed(route, side, status, micros);
      whole.recordServed(route, side, status, micros);
    }
    const meta = { replicaId: 'r', appliedVersion: 1 };
    const merged = mergeSnapshots(replicas.map((r) => r.snapshot(60, meta)));
    const one = whole.snapshot(60, meta);
    expect(merged.byUpstream).toEqual(one.byUpstream);
    for (const name of Object.keys(one.byUpstream!)) {
      const q = (h: Parameters<typeof Histogram.fromJSON>[0]) => [0.5, 0.99].map((p) => Histogram.fromJSON(h).quantile(p));
      expect(q(merged.byUpstream![name]!.latency)).toEqual(q(one.byUpstream![name]!.latency));
    }
    for (const r of ROUTES) expect(merged.routes[r]!.upstreams).toEqual(one.routes[r]!.upstreams);
  });
});
