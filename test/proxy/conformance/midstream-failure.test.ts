/**
 * An upstream that fails after its headers is a failed request (issue 15 item 1): the client's
 * connection is cut (never a short answer that looks whole), and the request counts against that
 * upstream as kind `midstream` in /admin/stats, in cutover_upstream_failures_total and in the 5xx
 * class every error rate reads, never as the 2xx its headers said. In mirror mode the side that
 * broke off is marked `cutShort` (shared/pairs.ts) so the verifier never compares a fragment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { analyse } from '../../../rollout-cli/plan/analysis.js';
import type { StatsSnapshot } from '../../../shared/stats/types.js';
import { rawRequest, startTestProxy, waitFor } from '../origins.js';
import { startRawOrigin } from '../raw-socket.js';

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const whole = (name: string) => (_head: string, sock: import('node:net').Socket) => {
  const body = JSON.stringify({ served: name, balance: '100.25' });
  sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
};
const diesMidBody = (_head: string, sock: import('node:net').Socket) => {
  sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"served":"v2","bal');
  setTimeout(() => sock.destroy(), 20);
};

describe('an upstream that dies after its headers', () => {
  it('canary 50 with a V2 that dies mid-body: every V2 answer is a cut connection and a midstream failure, and the errorRate check fails', async () => {
    const legacy = await startRawOrigin(whole('legacy'));
    const v2 = await startRawOrigin(diesMidBody);
    open.push(legacy, v2);
    const fx = await startTestProxy(
      { legacy: legacy.url, v2: v2.url },
      `
  - name: balance
    match: { method: GET, path: /accounts/:id/balance }
    mode: canary
    weight: 50
`,
    );
    open.push(fx);
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` }).then(
          (r) => (r.status === 200 && JSON.parse(r.body.toString()).served === 'legacy' ? 'legacy ok' : `unexpected ${r.status}`),
          () => 'broken',
        ),
      ),
    );
    const broken = outcomes.filter((o) => o === 'broken').length;
    expect(outcomes.filter((o) => o.startsWith('unexpected'))).toEqual([]);
    expect(broken).toBeGreaterThan(0);
    expect(broken).toBe(v2.heads.length);

    const snap = (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()) as StatsSnapshot;
    const s = snap.routes.balance.served;
    expect(s.v2).toMatchObject({ requests: broken, s2xx: 0, s5xx: broken, midstream: broken });
    expect(s.legacy).toMatchObject({ requests: 60 - broken, s2xx: 60 - broken, s5xx: 0, midstream: 0 });

    const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(metrics).toContain(`cutover_upstream_failures_total{route="balance",upstream="v2",kind="midstream"} ${broken}`);
    expect(metrics).toContain(`cutover_requests_total{route="balance",upstream="v2",code_class="5xx"} ${broken}`);
    expect(metrics).toContain(`cutover_requests_total{route="balance",upstream="v2",code_class="2xx"} 0`);

    const result = analyse(snap, [{ route: 'balance', mode: 'canary', weight: 50 }], { minRequests: 10, thresholds: { errorRate: { max: 0.01 } } });
    expect(result.verdict).toBe('fail');
    expect(result.checks[0]).toMatchObject({ check: 'errorRate', status: 'fail', value: 1 });
  });

  it('in mirror mode, marks the side that died cutShort in the pair (legacy: the client connection is cut too; V2: the client is untouched)', async () => {
    const healthy = await startRawOrigin(whole('legacy'));
    const dying = await startRawOrigin(diesMidBody);
    open.push(healthy, dying);
    const routes = `
  - name: balance
    match: { method: GET, path: /accounts/:id/balance }
    mode: mirror
`;
    // V2 dies mid-body.
    const a = await startTestProxy({ legacy: healthy.url, v2: dying.url }, routes, { opts: { verifier: false } });
    open.push(a);
    const r = await rawRequest(a.proxy.dataUrl, { path: '/accounts/A-1/balance' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).served).toBe('legacy');
    await waitFor(() => a.proxy.queue!.size === 1, 10_000);
    const [pv2] = a.proxy.queue!.take();
    expect(pv2.v2).toMatchObject({ status: 200, cutShort: true, error: 'midstream' });
    expect(pv2.legacy.cutShort).toBeUndefined();
    expect(pv2.legacy.error).toBeUndefined();

    // Legacy dies mid-body.
    const b = await startTestProxy({ legacy: dying.url, v2: healthy.url }, routes, { opts: { verifier: false } });
    open.push(b);
    const outcome = await rawRequest(b.proxy.dataUrl, { path: '/accounts/A-1/balance' }).then(
      () => 'completed',
      () => 'broken',
    );
    expect(outcome).toBe('broken');
    await waitFor(() => b.proxy.queue!.size === 1, 10_000);
    const [plegacy] = b.proxy.queue!.take();
    expect(plegacy.legacy).toMatchObject({ status: 200, cutShort: true, error: 'midstream' });
    expect(plegacy.v2.cutShort).toBeUndefined();
    const snap = (await (await fetch(`${b.proxy.adminUrl}/admin/stats?window=60s`)).json()) as StatsSnapshot;
    expect(snap.routes.balance.served.legacy).toMatchObject({ requests: 1, s2xx: 0, s5xx: 1, midstream: 1 });
  });
});
