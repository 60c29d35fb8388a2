/**
 * Traces and logs of a real `cutover proxy` process (its own verifier diffs the pairs), tracing
 * on through the standard OTEL_* variables, exporting OTLP/HTTP JSON to a receiver this test
 * runs: one trace holds the request, legacy, V2-copy and diff spans; the traceparent each
 * upstream received names its call's span; the diff record and the report's examples carry the
 * trace id. The proxy's log lines (parsed as JSON) carry trace and span ids and none of the
 * planted secrets.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCutover, stopAll } from '../helpers/processes.js';
import { parseMetrics, scrape, startCliProxy, startOrigin, tempDir, value, writeConfig, type Origin, type ProxyProcess } from './fixtures.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

const SERVER = 2;
const CLIENT = 3;
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
/** A caller's trace it did not sample (flags 00): nothing of it is exported. */
const UNSAMPLED_TRACE = 'aaf92f3577b34da6a3ce929d0e0e4700';
const SECRETS = ['Bearer PLANTED-AUTH-7f3a', 'PLANTED-KEY-91c2', 'PLANTED-COOKIE-5d8e', 'PLANTEDTOKEN4411'];

let receiver: http.Server;
const spans: OtlpSpan[] = [];
const contentTypes = new Set<string>();
let legacy: Origin;
let v2: Origin;
let proxy: ProxyProcess;
let dir: string;

function attr(s: OtlpSpan, key: string): unknown {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        contentTypes.add(String(req.headers['content-type']));
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const otlp = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  legacy = await startOrigin('legacy');
  v2 = await startOrigin('v2');
  const answer = (balance: string) => (_seen: unknown, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accountId: 'A-1', balance, currency: 'EUR' }));
  };
  legacy.respond = answer('100.25');
  const v2Answer = answer('100.26');
  // /broken/... paths: V2 drops the connection (an upstream failure the proxy logs).
  v2.respond = (seen, res) => (seen.url.startsWith('/broken/') ? res.socket?.destroy() : v2Answer(seen, res));
  dir = tempDir('cutover-obs-trace-');
  const config = writeConfig(
    dir,
    `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:${await freePort()}, admin: 127.0.0.1:${await freePort()} }
state: file://${join(dir, 'state.json')}
replicaId: obs-trace
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    compare: { decimal: [/balance] }
  - name: broken
    match: { method: GET, path: /broken/:id }
    mode: v2
`,
  );
  proxy = await startCliProxy(config, {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp}/v1/traces`,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'cutover-obs-test',
    CUTOVER_LOG_LEVEL: 'debug',
  });
});

afterAll(async () => {
  await proxy?.stop();
  await legacy?.close();
  await v2?.close();
  await new Promise((r) => receiver?.close(r));
  await stopAll();
});

describe('traces of a mirrored request', () => {
  it('puts the request, legacy, V2 copy and diff spans in one trace, names them in each traceparent sent, and the diff carries the trace id', async () => {
    const res = await fetch(`${proxy.dataUrl}/accounts/A-1/balance?token=${SECRETS[3]}`, {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, authorization: SECRETS[0]!, 'x-api-key': SECRETS[1]!, cookie: `sid=${SECRETS[2]}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { balance: string }).balance).toBe('100.25');

    // The verdict (a one-cent mismatch) and its trace id, from the admin API.
    const diff = await until('the diff record', async () => {
      const list = (await (await fetch(`${proxy.adminUrl}/admin/diffs`)).json()) as Array<{ traceId?: string; result: string }>;
      return Array.isArray(list) && list.length > 0 ? list[0] : undefined;
    });
    expect(diff.result).toBe('mismatch');
    expect(diff.traceId).toBe(CLIENT_TRACE);

    const mine = await until('four spans of the trace', () => {
      const t = spans.filter((s) => s.traceId === CLIENT_TRACE);
      return t.some((s) => s.name === 'diff') && t.length >= 4 ? t : undefined;
    });
    expect([...contentTypes]).toEqual(['application/json']);
    const server = mine.find((s) => s.kind === SERVER)!;
    expect(server.name).toBe('GET balance');
    expect(server.parentSpanId).toBe(CLIENT_SPAN);
    expect(attr(server, 'http.response.status_code')).toBe(200);
    expect(attr(server, 'url.path')).toBe('/accounts/A-1/balance');
    const legacyCall = mine.find((s) => s.name === 'legacy GET')!;
    const shadow = mine.find((s) => s.name === 'v2 shadow GET')!;
    const diffSpan = mine.find((s) => s.name === 'diff')!;
    for (const child of [legacyCall, shadow, diffSpan]) expect(child.parentSpanId, child.name).toBe(server.spanId);
    expect(legacyCall.kind).toBe(CLIENT);
    expect(shadow.kind).toBe(CLIENT);
    expect(shadow.links?.map((l) => l.spanId)).toEqual([server.spanId]);
    expect(attr(diffSpan, 'cutover.diff.result')).toBe('mismatch');
    expect(BigInt(diffSpan.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(server.startTimeUnixNano));
    expect(new Set(mine.map((s) => s.spanId)).size).toBe(mine.length);

    // Each upstream was told its own call's span as parent, in the client's trace.
    expect(legacy.seen.at(-1)!.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${legacyCall.spanId}-01`);
    expect(v2.seen.at(-1)!.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${shadow.spanId}-01`);

    // The report's examples carry the trace id too.
    const out = join(dir, 'report.json');
    const r = await runCutover(['report', '--admin', proxy.adminUrl, '--format', 'json', '--out', out, '--config', join(dir, 'cutover.yaml')], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const report = readFileSync(out, 'utf8');
    const traceIds = [...report.matchAll(/"traceId":\s*"([0-9a-f]{32})"/g)].map((m) => m[1]);
    expect(traceIds.length).toBeGreaterThan(0);
    expect(new Set(traceIds)).toEqual(new Set([CLIENT_TRACE]));
    for (const s of SECRETS) expect(report).not.toContain(s.replace('Bearer ', ''));
  });

  it('starts a new trace for a request without traceparent, and the legacy call is its child', async () => {
    const before = spans.length;
    expect((await fetch(`${proxy.dataUrl}/accounts/A-2/balance`)).status).toBe(200);
    const tp = legacy.seen.at(-1)!.headers.traceparent as string;
    const [, traceId, parentId] = tp.split('-');
    const server = await until('the new trace', () => spans.slice(before).find((s) => s.traceId === traceId && s.kind === SERVER));
    expect(server.parentSpanId ?? '').toBe('');
    const legacyCall = await until('its legacy span', () => spans.find((s) => s.spanId === parentId));
    expect(legacyCall.parentSpanId).toBe(server.spanId);
  });

  it('records nothing for a request its caller did not sample, and passes the unsampled context on', async () => {
    const unsampled = UNSAMPLED_TRACE;
    expect((await fetch(`${proxy.dataUrl}/accounts/A-3/balance`, { headers: { traceparent: `00-${unsampled}-${CLIENT_SPAN}-00` } })).status).toBe(200);
    const tp = legacy.seen.at(-1)!.headers.traceparent as string;
    expect(tp).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`));
    expect(v2.seen.at(-1)!.headers.traceparent).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`));
    // A sampled request sent after it is exported; the unsampled one never is.
    const marker = 'bbf92f3577b34da6a3ce929d0e0e4700';
    expect((await fetch(`${proxy.dataUrl}/accounts/A-4/balance`, { headers: { traceparent: `00-${marker}-${CLIENT_SPAN}-01` } })).status).toBe(200);
    await until('the later sampled trace', async () => (spans.some((s) => s.traceId === marker && s.name === 'diff') ? true : undefined));
    expect(spans.filter((s) => s.traceId === unsampled)).toEqual([]);
  });

  it('counts the mirror copies, their latency and their verdicts in /metrics', async () => {
    const m = await until('four verdicts in /metrics', async () => {
      const samples = parseMetrics(await scrape(proxy.adminUrl));
      return value(samples, 'cutover_diffs_total', { route: 'balance', result: 'mismatch' }) === 4 ? samples : undefined;
    });
    expect(value(m, 'cutover_shadow_total', { route: 'balance', outcome: 'sent' })).toBe(4);
    expect(value(m, 'cutover_shadow_total', { route: 'balance', outcome: 'dropped' })).toBe(0);
    expect(value(m, 'cutover_shadow_duration_seconds_count', { route: 'balance' })).toBe(4);
    expect(value(m, 'cutover_shadow_answers_total', { route: 'balance', code_class: '2xx' })).toBe(4);
    expect(value(m, 'cutover_shadow_answers_total', { route: 'balance', code_class: '5xx' })).toBe(0);
    expect(value(m, 'cutover_diffs_total', { route: 'balance', result: 'match' })).toBe(0);
    expect(value(m, 'cutover_requests_total', { route: 'balance', upstream: 'legacy', code_class: '2xx' })).toBe(4);
    expect(value(m, 'cutover_route_mode', { route: 'balance', mode: 'mirror' })).toBe(1);
    expect(value(m, 'cutover_verifier_queue_depth')).toBe(0);
  });

  it('logs JSON lines with the trace and span ids of the request, and no planted credential', async () => {
    const lines = await until('the debug lines', () => {
      const l = proxy.logLines().filter((x) => x.msg === 'request answered');
      return l.length >= 2 ? l : undefined;
    });
    const traced = spans.filter((s) => s.kind === SERVER);
    for (const line of lines) {
      expect(line.trace_id, JSON.stringify(line)).toMatch(/^[0-9a-f]{32}$/);
      expect(line.span_id, JSON.stringify(line)).toMatch(/^[0-9a-f]{16}$/);
      // The span id logged is the request's span in that trace (exported when sampled).
      if (line.trace_id === UNSAMPLED_TRACE) continue;
      expect(traced.some((s) => s.traceId === line.trace_id && s.spanId === line.span_id), JSON.stringify(line)).toBe(true);
    }
    const first = lines.find((l) => l.trace_id === CLIENT_TRACE)!;
    expect(first).toMatchObject({ level: 'debug', route: 'balance', upstream: 'legacy', status: 200, method: 'GET' });
    const headers = first.headers as Record<string, string>;
    expect(headers.authorization).toBe('[REDACTED]');
    expect(headers['x-api-key']).toBe('[REDACTED]');
    expect(headers.cookie).toBe('[REDACTED]');
    expect(first.url).toBe('/accounts/A-1/balance?token=[REDACTED]');
    // An upstream failure's warning carries the request's ids too.
    const failed = await fetch(`${proxy.dataUrl}/broken/1`, { headers: { authorization: SECRETS[0]! } });
    expect(failed.status).toBe(502);
    const warn = await until('the upstream failure line', () => proxy.logLines().find((l) => l.msg === 'upstream failed'));
    expect(warn).toMatchObject({ level: 'warn', route: 'broken', upstream: 'v2', kind: 'reset' });
    expect(warn.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(warn.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(v2.seen.at(-1)!.headers.traceparent).toContain(warn.trace_id as string);
    const all = proxy.logLines();
    expect(all.length).toBeGreaterThan(2);
    expect(proxy.otherLines()).toEqual([]);
    const raw = JSON.stringify(all);
    for (const s of SECRETS) expect(raw).not.toContain(s.replace('Bearer ', ''));
  });
});
