/**
 * One byte budget (limits.mirrorCaptureBytes) for every captured mirror body: the captures of
 * pairs in flight plus the pairs waiting for the verifier. Past it a pair is dropped and counted
 * (pairCounts, /admin/stats shadow.pairsDroppedMemory, cutover_pairs_dropped_memory_total), the
 * client's answer is untouched, and capturing resumes once the verifier takes what waits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, startOrigin, startTestProxy, waitFor, type Origin } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const KB300 = 'x'.repeat(300 * 1024);

async function bigOrigin(name: string, delayMs = 0): Promise<Origin> {
  const o = await startOrigin(name);
  o.respond = (_req, res) => {
    const body = JSON.stringify({ served: name, pad: KB300 });
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, delayMs);
  };
  open.push(o);
  return o;
}

const ROUTES = `
  - name: statements
    match: { method: GET, path: /statements/:id }
    mode: mirror
    # a loaded machine must not turn a slow copy into a small pair (that would fit the budget)
    mirror: { timeoutMs: 30000 }
`;

describe('the capture budget', () => {
  it('drops and counts pairs past the limit while the verifier queue holds the bytes, and captures again once it is read', async () => {
    const legacy = await bigOrigin('legacy');
    const v2 = await bigOrigin('v2');
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml: 'limits: { mirrorCaptureBytes: 1048576 }', opts: { verifier: false } });
    open.push(fx);
    const q = fx.proxy.queue!;
    // ~600 KB a pair: the first fits, the second does not while the first waits.
    const first = await rawRequest(fx.proxy.dataUrl, { path: '/statements/S-1' });
    expect(first.body.length).toBeGreaterThan(300 * 1024);
    await waitFor(() => q.size === 1, 10_000);
    const second = await rawRequest(fx.proxy.dataUrl, { path: '/statements/S-2' });
    expect(second.status).toBe(200);
    expect(JSON.parse(second.body.toString()).served).toBe('legacy');
    await waitFor(() => fx.proxy.pairCounts().droppedMemory === 1, 10_000);
    expect(q.size).toBe(1);

    const stats = await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json();
    expect(stats.routes.statements.shadow).toMatchObject({ pairsDroppedMemory: 1 });
    const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/^cutover_pairs_dropped_memory_total 1$/m);
    expect(metrics).toMatch(/^cutover_pairs_dropped_total 1$/m);

    // The verifier reads the waiting pair: the budget frees and the next pair is captured whole.
    const [kept] = q.take();
    expect(kept.legacy.body.length).toBeGreaterThan(300 * 1024);
    expect(kept.v2.body.length).toBeGreaterThan(300 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    await rawRequest(fx.proxy.dataUrl, { path: '/statements/S-3' });
    await waitFor(() => q.size === 1, 10_000);
    const [again] = q.take();
    expect(again.path).toBe('/statements/S-3');
    expect(again.v2.body.length).toBeGreaterThan(300 * 1024);
    expect(fx.proxy.pairCounts().droppedMemory).toBe(1);
  });

  it('bounds the bytes held by captures in flight: 30 concurrent 600 KB pairs under a 2 MiB limit never hold more than 2 MiB', async () => {
    const legacy = await bigOrigin('legacy', 200);
    const v2 = await bigOrigin('v2', 200);
    const limit = 2 * 1048576;
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml: `limits: { mirrorCaptureBytes: ${limit} }`, opts: { verifier: false } });
    open.push(fx);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => rawRequest(fx.proxy.dataUrl, { path: `/statements/S-${i}` })));
    expect(answers.every((a) => a.status === 200 && a.body.length > 300 * 1024)).toBe(true);
    await waitFor(() => fx.proxy.pairCounts().offered === 30, 15_000);
    const h = (await (await fetch(`${fx.proxy.adminUrl}/healthz`)).json()) as { captureBytes: { peak: number; limit: number } };
    expect(h.captureBytes.limit).toBe(limit);
    expect(h.captureBytes.peak).toBeLessThanOrEqual(limit);
    const c = fx.proxy.pairCounts();
    expect(c.droppedMemory).toBeGreaterThan(0);
    // Every pair is accounted for: handed over or dropped (and counted).
    expect(fx.proxy.queue!.size + c.dropped).toBe(30);
  });
  it('keeps nothing of a body over maxBodyBytes: a 2 MB legacy answer that declares its length never holds its first megabyte in the budget, and the pair is judged too large', async () => {
    const legacy = await startOrigin('legacy');
    let finish: () => void = () => undefined;
    legacy.respond = (_req, res) => {
      const head = `{"served":"legacy","pad":"${'x'.repeat(2 * 1048576)}`;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(head) + 2 });
      res.write(head);
      finish = () => res.end('"}');
    };
    open.push(legacy);
    const v2 = await bigOrigin('v2');
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, `${ROUTES}    maxBodyBytes: 1048576\n`, { opts: { verifier: false } });
    open.push(fx);
    const answer = rawRequest(fx.proxy.dataUrl, { path: '/statements/S-big' });
    // legacy has sent its 2 MB and holds the end back; V2 has answered
    await waitFor(() => v2.seen.length === 1 && legacy.seen.length === 1, 10_000);
    const held = async () => ((await (await fetch(`${fx.proxy.adminUrl}/healthz`)).json()) as { captureBytes: { held: number; peak: number } }).captureBytes;
    finish();
    expect((await answer).body.length).toBeGreaterThan(2 * 1048576);
    await waitFor(() => fx.proxy.queue!.size === 1, 10_000);
    const [pair] = fx.proxy.queue!.take();
    expect(pair.legacy.truncated).toBe(true);
    expect(pair.legacy.body).toBe('');
    const h = await held();
    expect(h.held).toBe(0);
    // V2's 300 KB answer at most was ever held, none of legacy's first megabyte
    expect(h.peak).toBeLessThan(400 * 1024);
  });
});
