/**
 * Verdicts that cannot be fooled, through the real proxy and its verifier (a worker thread):
 * bodies over the limit, compressed bodies, a decompression bomb, epoch seconds, hostile
 * number literals. Origins are node:http servers on port 0 that answer what each test says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { analyse } from '../../rollout-cli/plan/analysis.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import type { Verdict } from '../../verifier/types.js';
import { rawRequest, startTestProxy, waitFor, type ProxyFixture } from '../proxy/origins.js';

type Answer = { body: Buffer | string; headers?: Record<string, string> };
type Handler = (path: string) => Answer;

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function origin(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    const a = handler(req.url ?? '/');
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), ...a.headers });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function proxy(legacy: Handler, v2: Handler, route: string): Promise<ProxyFixture> {
  const fx = await startTestProxy({ legacy: await origin(legacy), v2: await origin(v2) }, route);
  open.push(fx);
  return fx;
}

/** Sends the requests one after the other (each waits for its answer), then waits for their verdicts; returns them oldest first. */
async function run(fx: ProxyFixture, paths: string[], boundMs = 60_000): Promise<Verdict[]> {
  const before = fx.proxy.verifier!.stats().verified;
  for (const p of paths) {
    const r = await rawRequest(fx.proxy.dataUrl, { path: p, headers: { 'accept-encoding': 'gzip, br' } });
    expect(r.status).toBe(200);
  }
  const pipeline = fx.proxy.verifier!;
  await waitFor(() => pipeline.stats().verified >= before + paths.length, boundMs);
  return pipeline.query({ limit: paths.length }).reverse();
}

async function adminStats(fx: ProxyFixture): Promise<StatsSnapshot> {
  return (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()) as StatsSnapshot;
}

async function metricsText(fx: ProxyFixture): Promise<string> {
  return (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
}

const route = (name: string, extra = '') => `
  - name: ${name}
    match: { method: GET, path: /r/:id }
    mode: mirror
${extra}`;

const paths = (n: number) => Array.from({ length: n }, (_, i) => `/r/${i}`);

describe('bodies over maxBodyBytes', () => {
  it('are never matches: 10 differing pairs over the limit are 10 not-compared, counted everywhere, and the mirror step is inconclusive', async () => {
    const big = (fill: string) => JSON.stringify({ data: fill.repeat(4000) });
    const fx = await proxy(() => ({ body: big('a') }), () => ({ body: big('b') }), route('big', '    maxBodyBytes: 1000'));
    const verdicts = await run(fx, paths(10));
    expect(verdicts.map((v) => v.result)).toEqual(Array(10).fill('not-compared'));
    expect(verdicts[0].notCompared?.reason).toBe('too-large');

    const agg = fx.proxy.verifier!.snapshot().routes.find((r) => r.route === 'big')!;
    expect(agg).toMatchObject({ pairs: 10, match: 0, notCompared: 10, compared: 0, notComparedReasons: { 'too-large': 10 } });

    const stats = await adminStats(fx);
    expect(stats.routes.big.diffs).toMatchObject({ pairs: 10, match: 0, notCompared: 10 });
    const metrics = await metricsText(fx);
    expect(metrics).toMatch(/cutover_diffs_total\{route="big",result="not-compared"\} 10\b/);
    expect(metrics).toMatch(/cutover_diffs_total\{route="big",result="match"\} 0\b/);
    expect(metrics).toMatch(/cutover_diffs_not_compared_total\{route="big",reason="too-large"\} 10\b/);

    const result = analyse(stats, [{ route: 'big', mode: 'mirror', weight: 0 }], { thresholds: { mismatchRate: { max: 0.001 } }, minRequests: 10 });
    expect(result.verdict).toBe('inconclusive');
    expect(result.checks[0]).toMatchObject({ check: 'mismatchRate', status: 'inconclusive', rule: 'minComparedShare' });
    expect(result.checks[0].reason).toContain('0 of 10 verified pairs compared: 10 not compared');
  });
});

describe('compressed bodies', () => {
  const legacyGzip = (json: string): Answer => ({ body: zlib.gzipSync(json), headers: { 'content-encoding': 'gzip' } });
  const v2Brotli = (json: string): Answer => ({ body: zlib.brotliCompressSync(json), headers: { 'content-encoding': 'br' } });

  it('gzip legacy against brotli V2 with equal JSON: 0 mismatches (a different content-encoding alone is no finding)', async () => {
    const json = (p: string) => JSON.stringify({ account: p, balance: '1234.56', currency: 'EUR' });
    const fx = await proxy((p) => legacyGzip(json(p)), (p) => v2Brotli(JSON.stringify(JSON.parse(json(p)), null, 2)), route('z'));
    const verdicts = await run(fx, paths(10));
    expect(verdicts.map((v) => v.result)).toEqual(Array(10).fill('match'));
    expect(verdicts.every((v) => v.body === 'json')).toBe(true);
  });

  it('gzip legacy against brotli V2 one cent apart: found at /balance, with both values', async () => {
    const fx = await proxy(
      () => legacyGzip('{"balance":"1234.56","currency":"EUR"}'),
      () => v2Brotli('{"balance":"1234.57","currency":"EUR"}'),
      route('z'),
    );
    const [v] = await run(fx, paths(1));
    expect(v.result).toBe('mismatch');
    expect(v.findings).toEqual([{ path: '/balance', pointer: '/balance', kind: 'value', legacy: '1234.56', v2: '1234.57' }]);
  });

  it('stacked encodings are undone last-applied first', async () => {
    const json = '{"balance":"1.00"}';
    const fx = await proxy(
      () => ({ body: zlib.brotliCompressSync(zlib.gzipSync(json)), headers: { 'content-encoding': 'gzip, br' } }),
      () => ({ body: zlib.deflateSync(json), headers: { 'content-encoding': 'deflate' } }),
      route('z'),
    );
    const [v] = await run(fx, paths(1));
    expect(v.result).toBe('match');
  });

  it('a decompression bomb stops at maxBodyBytes and is not compared; an unknown encoding is undecodable', async () => {
    // 64 MB of zeros gzip to about 64 KB: well under the 1 MiB capture limit as sent.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1_048_576, 0x30));
    expect(bomb.length).toBeLessThan(1_048_576);
    const fx = await proxy(
      (p) => (p.endsWith('/1') ? { body: '{"a":1}', headers: { 'content-encoding': 'compress' } } : { body: '{"a":1}' }),
      (p) => (p.endsWith('/1') ? { body: '{"a":1}' } : { body: bomb, headers: { 'content-encoding': 'gzip' } }),
      route('bomb'),
    );
    const [first, second] = await run(fx, paths(2));
    expect(first).toMatchObject({ result: 'not-compared', body: 'too-large', notCompared: { reason: 'too-large' } });
    expect(first.notCompared!.detail).toContain('once gzip is decoded');
    expect(second).toMatchObject({ result: 'not-compared', notCompared: { reason: 'undecodable' } });
    const agg = fx.proxy.verifier!.snapshot().routes.find((r) => r.route === 'bomb')!;
    expect(agg.notComparedReasons).toEqual({ 'too-large': 1, undecodable: 1, 'cut-short': 0 });
  });
});

describe('epoch seconds against ISO 8601', () => {
  it('equal under epoch: s; one second apart found at /created', async () => {
    const fx = await proxy(
      (p) => ({ body: `{"created":${p.endsWith('/1') ? 1795392001 : 1795392000}}` }),
      () => ({ body: '{"created":"2026-11-23T00:00:00Z"}' }),
      route('ts', '    compare: { timestamp: [{ path: /created, epoch: s }] }'),
    );
    const [same, apart] = await run(fx, paths(2));
    expect(same.result).toBe('match');
    expect(apart.result).toBe('mismatch');
    expect(apart.findings.map((f) => [f.path, f.kind, f.legacy, f.v2])).toEqual([['/created', 'value', 1795392001, '2026-11-23T00:00:00Z']]);
  });
});

describe('hostile number literals', () => {
  // legacy, V2, the result JSON's exact decimals call for.
  const cases: Array<[string, string, 'match' | 'mismatch']> = [
    ['[1.000000000000001e99999999]', '[1e99999999]', 'mismatch'],
    ['[1.000000000000001e99999999]', '[1000000000000001e99999984]', 'match'],
    ['{"a":1e400}', '{"a":2e400}', 'mismatch'],
    ['{"a":1e400}', '{"a":10e399}', 'match'],
    ['{"a":3e-324}', '{"a":5e-324}', 'mismatch'],
    ['["\\u0000#12345678901234567890"]', '[12345678901234567890]', 'mismatch'],
    ['{"id":12345678901234567890}', '{"id":12345678901234567891}', 'mismatch'],
  ];

  it('judges each as its exact decimal value says, and the pairs after them are judged in order without waiting on them', async () => {
    const n = cases.length;
    const fx = await proxy(
      (p) => {
        const i = Number(p.slice(3));
        return { body: i < n ? cases[i][0] : `{"i":${i}}` };
      },
      (p) => {
        const i = Number(p.slice(3));
        return { body: i < n ? cases[i][1] : `{"i":${i}}` };
      },
      route('num'),
    );
    // Warm the worker up first, so the bound below is about the diffing only.
    await run(fx, ['/r/999']);
    const verdicts = await run(fx, paths(n + 20), 20_000);
    // Before this fix one such literal took 28-37 s of CPU and every pair behind it waited:
    // the 20 s bound above would not have been met.
    expect(verdicts.map((v) => v.path)).toEqual(paths(n + 20));
    expect(verdicts.slice(0, n).map((v) => v.result)).toEqual(cases.map((c) => c[2]));
    expect(verdicts.slice(n).every((v) => v.result === 'match')).toBe(true);
    const impersonation = verdicts[5];
    expect(impersonation.findings[0]).toMatchObject({ path: '/*', kind: 'type' });
  });

  it('writes numbers a double cannot hold in /admin/diffs as JSON numbers with their literal', async () => {
    const fx = await proxy(() => ({ body: '{"id":12345678901234567890,"big":1e400}' }), () => ({ body: '{"id":12345678901234567891,"big":2e400}' }), route('num'));
    await run(fx, paths(1));
    const text = await (await fetch(`${fx.proxy.adminUrl}/admin/diffs?route=num`)).text();
    expect(text).toContain('"legacy":12345678901234567890,"v2":12345678901234567891');
    expect(text).toContain('"legacy":1e400,"v2":2e400');
  });
});
