/**
 * The `prometheus` source with named upstreams: each route's series are placed on its legacy or
 * V2 side by cutover_route_upstream_info, so a route is compared with its own services only.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMQL, snapshotFromPromQL, type PromSample, type QueryName } from '../../rollout-cli/plan/prometheus-source.js';

const empty = (): Record<QueryName, PromSample[]> => Object.fromEntries(Object.keys(DEFAULT_PROMQL).map((k) => [k, []])) as never;

describe('prometheus source: named upstreams', () => {
  it("places each route's series on its side by the route's own upstream names", () => {
    const r = empty();
    r.sides = [
      { metric: { route: 'transactions', side: 'legacy', upstream: 'legacy' }, value: 1 },
      { metric: { route: 'transactions', side: 'v2', upstream: 'transactions-v2' }, value: 1 },
      { metric: { route: 'transfers', side: 'legacy', upstream: 'transactions-v2' }, value: 1 },
      { metric: { route: 'transfers', side: 'v2', upstream: 'wallets-v2' }, value: 1 },
    ];
    r.requests = [
      { metric: { route: 'transactions', upstream: 'transactions-v2', code_class: '5xx' }, value: 7 },
      { metric: { route: 'transactions', upstream: 'legacy', code_class: '2xx' }, value: 90 },
      { metric: { route: 'transfers', upstream: 'transactions-v2', code_class: '2xx' }, value: 40 },
      { metric: { route: 'transfers', upstream: 'wallets-v2', code_class: '2xx' }, value: 12 },
      // Not a side of this route: left out.
      { metric: { route: 'transfers', upstream: 'legacy', code_class: '2xx' }, value: 1000 },
    ];
    r.latency = [
      { metric: { route: 'transfers', upstream: 'wallets-v2', le: '0.01' }, value: 12 },
      { metric: { route: 'transfers', upstream: 'wallets-v2', le: '+Inf' }, value: 12 },
    ];
    const snap = snapshotFromPromQL(r, 30, new Date('2026-01-01T00:00:00Z'));
    const tx = snap.routes.transactions!;
    expect([tx.served.v2.requests, tx.served.v2.s5xx, tx.served.legacy.requests]).toEqual([7, 7, 90]);
    const tr = snap.routes.transfers!;
    expect(tr.upstreams).toEqual({ legacy: 'transactions-v2', v2: 'wallets-v2' });
    expect([tr.served.legacy.requests, tr.served.v2.requests]).toEqual([40, 12]);
    expect(tr.served.v2.latency.count).toBe(12);
  });
});
