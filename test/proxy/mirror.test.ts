import { REDACTED } from '../../shared/secrets.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { MirroredPair, PairSink } from '../../shared/pairs.js';
import { rawRequest, refusingUrl, startOrigin, startTestProxy, waitFor, type Origin, type ProxyFixture } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function origins(v2Behaviour: Parameters<typeof startOrigin>[1] = 'json') {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2', v2Behaviour);
  open.push(legacy, v2);
  return { legacy, v2 };
}

class ArraySink implements PairSink {
  pairs: MirroredPair[] = [];
  offer(p: MirroredPair) {
    this.pairs.push(p);
    return true;
  }
}

const MIRROR = (extra = '') => `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    mirror: { timeoutMs: 300 }
    maxBodyBytes: 100
${extra}
  - name: transfers
    match: { method: POST, path: /accounts/:accountId/transfers }
    mode: mirror
  - name: transfers-optin
    match: { method: PUT, path: /accounts/:accountId/transfers/:id }
    mode: mirror
    mirrorUnsafe: true
    mirror: { maxRequestBodyBytes: 32 }
`;

async function proxyFor(legacy: Origin, v2: Origin | string, sink?: PairSink, routes = MIRROR()): Promise<ProxyFixture> {
  const fx = await startTestProxy({ legacy: legacy.url, v2: typeof v2 === 'string' ? v2 : v2.url }, routes, { opts: sink ? { pairSink: sink } : {} });
  open.push(fx);
  return fx;
}

async function statsOf(fx: ProxyFixture, route = 'balance') {
  return (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()).routes[route];
}

describe('mirror mode', () => {
  it('suspends copies to a V2 that stopped answering, counts them, and resumes once V2 answers a probe', async () => {
    const { legacy, v2 } = await origins('hang');
    const fx = await proxyFor(legacy, v2, undefined, MIRROR().replace('mirror: { timeoutMs: 300 }', 'mirror: { timeoutMs: 100, suspendAfterFailures: 3 }'));
    const shadow = async () => (await statsOf(fx)).shadow as Record<string, number>;
    const get = async (i: number) => {
      const r = await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString()).served).toBe('legacy');
    };
    // Three copies in a row time out: the breaker opens.
    for (let i = 0; i < 3; i++) await get(i);
    await waitFor(() => fx.proxy.stats.snapshot(60, { replicaId: '', appliedVersion: 0 }).routes.balance.shadow.timeouts === 3, 3000);
    // While the breaker is open, copies are suspended, not sent. How many of the next ten fall in
    // the 1 s cool-down depends on the machine's speed (a probe may go out after it), so the test
    // counts them instead of pinning the split.
    for (let i = 3; i < 13; i++) await get(i);
    const open1 = await shadow();
    expect(open1.suspended).toBeGreaterThan(0);
    expect(open1.sent + open1.suspended).toBe(13);
    expect(v2.seen.length).toBe(open1.sent);
    // V2 recovers. After the cool-down one probe goes out; its answer closes the breaker.
    v2.behaviour = 'json';
    let i = 13;
    const deadline = Date.now() + 20_000;
    while (fx.proxy.stats.snapshot(60, { replicaId: '', appliedVersion: 0 }).routes.balance.shadowLatency.count === 0) {
      if (Date.now() > deadline) throw new Error('no probe was answered within 20 s');
      await get(i++);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Closed: every copy flows again, none suspended.
    const closed = await shadow();
    const seen = v2.seen.length;
    for (let k = 0; k < 5; k++) await get(i++);
    await waitFor(() => v2.seen.length === seen + 5);
    expect(await shadow()).toMatchObject({ sent: closed.sent + 5, suspended: closed.suspended });
  });

  it('returns bytes identical to a direct legacy call, and V2 gets a copy', async () => {
    const { legacy, v2 } = await origins();
    legacy.respond = (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'x-ledger': 'L1', connection: 'x-hop', 'x-hop': 'h' });
      res.end('{"balance":"100.10","note":"é ünïcode","n":[1,2,3]}');
    };
    const fx = await proxyFor(legacy, v2);
    const direct = await rawRequest(legacy.url, { path: '/accounts/A-1/balance?x=1' });
    const viaProxy = await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1/balance?x=1' });
    expect(viaProxy.status).toBe(direct.status);
    expect(Buffer.compare(viaProxy.body, direct.body)).toBe(0);
    for (const h of ['content-type', 'content-length', 'x-ledger']) expect(viaProxy.headers[h], h).toBe(direct.headers[h]);
    expect(viaProxy.headers['x-hop']).toBeUndefined();
    expect(viaProxy.headers['x-cutover-upstream']).toBe('legacy');
    await waitFor(() => v2.seen.length === 1);
    expect(v2.seen[0].url).toBe('/accounts/A-1/balance?x=1');
    expect(v2.seen[0].headers.traceparent).toBe(legacy.seen.at(-1)!.headers.traceparent);
    expect(v2.seen[0].headers['x-cutover-shadow']).toBeUndefined();
  });

  it('hands the pair to the sink: both answers, redacted credentials, truncated bodies, one trace id', async () => {
    const { legacy, v2 } = await origins();
    v2.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ served: 'v2', pad: 'x'.repeat(200) }));
    };
    const sink = new ArraySink();
    const fx = await proxyFor(legacy, v2, sink);
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-2/balance', headers: { authorization: 'Bearer s3cret', 'x-api-key': 'k', accept: 'application/json' } });
    await waitFor(() => sink.pairs.length === 1);
    const p = sink.pairs[0];
    expect(p.route).toBe('balance');
    expect(p.method).toBe('GET');
    expect(p.path).toBe('/accounts/A-2/balance');
    expect(p.requestHeaders.authorization).toBe(REDACTED);
    expect(p.requestHeaders['x-api-key']).toBe(REDACTED);
    expect(p.requestHeaders.accept).toBe('application/json');
    expect(p.legacy.status).toBe(200);
    expect(JSON.parse(p.legacy.body).served).toBe('legacy');
    expect(p.legacy.headers['set-cookie']).toBe(REDACTED);
    expect(p.legacy.headers['x-cutover-upstream']).toBeUndefined();
    expect(p.v2.truncated).toBe(true);
    // a body over maxBodyBytes is judged too large unread: none of it is kept or handed over
    expect(p.v2.body).toBe('');
    expect(p.legacy.truncated).toBeUndefined();
    expect(p.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(legacy.seen[0].headers.traceparent).toContain(p.traceId!);
    expect(p.v2.latencyMs).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(p.at))).toBe(false);
  });

  it('sends the copy at the same time as the legacy call (V2 sees it before a slow legacy answers)', async () => {
    const legacy = await startOrigin('legacy', { delayMs: 1000 });
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const fx = await proxyFor(legacy, v2);
    const r = await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-3/balance' });
    expect(r.status).toBe(200);
    await waitFor(() => v2.seen.length === 1, 2000);
    // legacy answered 1 s after it got the request; V2 got its copy well before that
    expect(v2.seen[0].at).toBeLessThan(legacy.seen[0].at + 500);
    expect(v2.seen[0].at).toBeGreaterThanOrEqual(legacy.seen[0].at - 500);
  });

  it('never mirrors POST/PUT/PATCH/DELETE unless the route opts in', async () => {
    const { legacy, v2 } = await origins();
    const fx = await proxyFor(legacy, v2);
    for (const method of ['POST', 'POST']) {
      const r = await rawRequest(fx.proxy.dataUrl, { method, path: '/accounts/A-1/transfers', headers: { 'content-type': 'application/json' }, body: '{"amount":"5.00"}' });
      expect(r.status).toBe(200);
    }
    expect(legacy.seen.filter((s) => s.method === 'POST')).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(v2.seen).toHaveLength(0);
    expect((await statsOf(fx, 'transfers')).shadow.skippedUnsafe).toBe(2);
  });

  it('never mirrors any unsafe method on a mirror default route', async () => {
    const { legacy, v2 } = await origins();
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, '  []', { yaml: 'defaultRoute: { mode: mirror }' });
    open.push(fx);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await rawRequest(fx.proxy.dataUrl, { method, path: '/ledger/entries/1', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(r.status, method).toBe(200);
    }
    await rawRequest(fx.proxy.dataUrl, { path: '/ledger/entries/1' });
    await waitFor(() => v2.seen.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(v2.seen.map((s) => s.method)).toEqual(['GET']);
    expect(legacy.seen).toHaveLength(5);
    expect((await statsOf(fx, 'default')).shadow.skippedUnsafe).toBe(4);
  });

  it('mirrors an opted-in unsafe method with x-cutover-shadow: 1 and the same body', async () => {
    const { legacy, v2 } = await origins();
    const fx = await proxyFor(legacy, v2);
    const body = '{"amount":"7.25"}';
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'PUT', path: '/accounts/A-1/transfers/t1', headers: { 'content-type': 'application/json' }, body });
    expect(JSON.parse(r.body.toString()).served).toBe('legacy');
    await waitFor(() => v2.seen.length === 1);
    expect(v2.seen[0].headers['x-cutover-shadow']).toBe('1');
    expect(v2.seen[0].body).toBe(body);
    expect(legacy.seen[0].body).toBe(body);
    expect(legacy.seen[0].headers['x-cutover-shadow']).toBeUndefined();
  });

  it('serves but does not mirror a body over mirror.maxRequestBodyBytes', async () => {
    const { legacy, v2 } = await origins();
    const fx = await proxyFor(legacy, v2);
    const big = JSON.stringify({ memo: 'y'.repeat(100) });
    const r = await rawRequest(fx.proxy.dataUrl, { method: 'PUT', path: '/accounts/A-1/transfers/t2', headers: { 'content-type': 'application/json' }, body: big });
    expect(r.status).toBe(200);
    expect(legacy.seen[0].body).toBe(big);
    await new Promise((res) => setTimeout(res, 100));
    expect(v2.seen).toHaveLength(0);
    expect((await statsOf(fx, 'transfers-optin')).shadow.skippedBody).toBe(1);
  });

  it.each([
    ['refusing connections', 'refuse'],
    ['hanging', 'hang'],
    ['answering garbage', 'garbage'],
    ['resetting the connection', 'reset'],
  ] as const)('leaves every client response unchanged when V2 is %s, and counts it', async (_label, behaviour) => {
    const legacy = await startOrigin('legacy');
    open.push(legacy);
    let v2: Origin | string;
    if (behaviour === 'refuse') v2 = await refusingUrl();
    else {
      v2 = await startOrigin('v2', behaviour);
      open.push(v2);
    }
    // A copy may take 5 s to give up on a hanging V2: a client that waited for its copy would get
    // its answer only after the copy timed out. Ordering, not a stopwatch, shows it did not wait.
    const fx = await proxyFor(legacy, v2, undefined, MIRROR().replace('mirror: { timeoutMs: 300 }', 'mirror: { timeoutMs: 5000 }'));
    const direct = await rawRequest(legacy.url, { path: '/accounts/A-9/balance' });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` })));
    const shadowWhenAnswered = fx.proxy.stats.snapshot(60, { replicaId: '', appliedVersion: 0 }).routes.balance.shadow;
    if (behaviour === 'hang') expect(shadowWhenAnswered.timeouts, 'every client had its answer while copies were still hanging').toBeLessThan(10);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body.toString()).served).toBe('legacy');
      expect(a.body.length).toBe(direct.body.length - 'A-9'.length + 'A-0'.length);
    }
    await waitFor(() => {
      const n = fx.proxy.stats.snapshot(60, { replicaId: '', appliedVersion: 0 }).routes.balance.shadow;
      return n.errors + n.timeouts === 10;
    }, 30_000);
    const shadow = (await statsOf(fx)).shadow;
    expect(shadow.sent).toBe(10);
    if (behaviour === 'hang') expect(shadow.timeouts).toBe(10);
    else expect(shadow.errors).toBe(10);
  });

  it('counts the 5xx and 429 answers V2 gives to copies (V2 errors and throttles in mirror mode), the client still getting legacy', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    let n = 0;
    v2.respond = (_seen, res) => {
      const status = n++ % 2 === 0 ? 503 : 429;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"error":"no"}');
    };
    const fx = await proxyFor(legacy, v2);
    for (let i = 0; i < 6; i++) expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` })).status).toBe(200);
    await waitFor(() => {
      const s = fx.proxy.stats.snapshot(60, { replicaId: '', appliedVersion: 0 }).routes.balance.shadow;
      return s.s5xx + s.throttled === 6;
    }, 5000);
    const shadow = (await statsOf(fx)).shadow;
    expect(shadow).toMatchObject({ sent: 6, s5xx: 3, throttled: 3, errors: 0, timeouts: 0 });
  });

  it('drops copies over the in-flight cap and counts them', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2', 'hang');
    open.push(legacy, v2);
    const fx = await proxyFor(legacy, v2, undefined, MIRROR().replace('mirror: { timeoutMs: 300 }', 'mirror: { timeoutMs: 2000, maxInFlight: 3 }'));
    for (let i = 0; i < 8; i++) expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` })).status).toBe(200);
    const shadow = (await statsOf(fx)).shadow;
    expect(shadow.sent).toBe(3);
    expect(shadow.dropped).toBe(5);
  });

  it('samples copies at the configured rate', async () => {
    const { legacy, v2 } = await origins();
    const fx = await proxyFor(legacy, v2, undefined, MIRROR().replace('mirror: { timeoutMs: 300 }', 'mirror: { timeoutMs: 300, sample: 0 }'));
    for (let i = 0; i < 5; i++) await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` });
    expect((await statsOf(fx)).shadow).toMatchObject({ sent: 0, sampledOut: 5 });
    expect(v2.seen).toHaveLength(0);
  });

  it('counts pairs the bounded queue cannot take, without blocking requests', async () => {
    const { legacy, v2 } = await origins();
    const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, MIRROR(), { yaml: 'verifier: { queueSize: 2 }', opts: { verifier: false } });
    open.push(fx);
    for (let i = 0; i < 5; i++) expect((await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` })).status).toBe(200);
    await waitFor(() => fx.proxy.pairCounts().offered === 5);
    expect(fx.proxy.queue!.size).toBe(2);
    expect(fx.proxy.pairCounts().dropped).toBe(3);
    const metrics = await (await fetch(`${fx.proxy.adminUrl}/metrics`)).text();
    expect(metrics).toMatch(/cutover_pairs_dropped_total 3/);
  });

  it('sends a sampled share of safe copies to the legacy replica too, and never an unsafe one', async () => {
    const { legacy, v2 } = await origins();
    const replica = await startOrigin('replica');
    open.push(replica);
    const sink = new ArraySink();
    // startTestProxy writes `legacy: URL`; the flow mapping takes the replica after it
    const fx2 = await startTestProxy({ legacy: `${legacy.url}, legacyReplica: ${replica.url}`, v2: v2.url }, MIRROR(), {
      yaml: `verifier: { noise: { replicaSample: 100 } }`,
      opts: { pairSink: sink },
    });
    open.push(fx2);
    await rawRequest(fx2.proxy.dataUrl, { path: '/accounts/A-4/balance' });
    await rawRequest(fx2.proxy.dataUrl, { method: 'PUT', path: '/accounts/A-1/transfers/t9', headers: { 'content-type': 'application/json' }, body: '{}' });
    await waitFor(() => sink.pairs.length === 2);
    const get = sink.pairs.find((p) => p.method === 'GET')!;
    expect(JSON.parse(get.replica!.body).served).toBe('replica');
    expect(sink.pairs.find((p) => p.method === 'PUT')!.replica).toBeUndefined();
    expect(replica.seen.map((s) => s.method)).toEqual(['GET']);
    expect(replica.seen[0].headers.host).toBe(`127.0.0.1:${replica.port}`);
    // the replica's answers count in no V2 stats
    expect((await statsOf(fx2)).shadow.sent).toBe(1);
  });

  it('counts the verifier results it is told about in the route stats', async () => {
    const { legacy, v2 } = await origins();
    const fx = await proxyFor(legacy, v2);
    const { channels } = await import('../../shared/events.js');
    channels.diffRecorded.publish({ route: 'balance', result: 'mismatch', findings: 1 });
    channels.diffRecorded.publish({ route: 'balance', result: 'match', findings: 0 });
    expect((await statsOf(fx)).diffs).toMatchObject({ pairs: 2, match: 1, mismatch: 1 });
  });
});
