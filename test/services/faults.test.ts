/**
 * Fault knobs produce what they say, measured from outside over enough requests:
 * rates within a stated tolerance (binomial: ±0.05 over 1000 requests is about 4 standard
 * deviations at p = 0.2..0.3), latency at least the configured amount, the V2 bugs exactly
 * where configured. Plus the request counters the soak suite reads.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decimalEquals, parseDecimal, subtractDecimal, formatDecimal } from '../../shared/decimal.js';
import { startServices, type RunningServices, accountId } from '../../services/index.js';
import { FULL_KEY, getJson, mapLimit, sendJson } from './helpers.js';

let svc: RunningServices;

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});
afterEach(async () => {
  await Promise.all([sendJson('DELETE', `${svc.legacy.url}/_admin/faults`), sendJson('DELETE', `${svc.v2.url}/_admin/faults`)]);
});

async function statuses(url: string, n: number, headers: Record<string, string> = {}) {
  return mapLimit(Array.from({ length: n }), 16, async () => {
    const r = await fetch(url, { headers });
    await r.arrayBuffer();
    return { status: r.status, retryAfter: r.headers.get('retry-after') };
  });
}

async function timed(url: string, headers: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(url, { headers });
  await r.arrayBuffer();
  expect(r.status).toBe(200);
  return performance.now() - t0;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('rate knobs', () => {
  it('errorRate 0.2 on legacy: 5xx share within 0.2 ± 0.05 over 1000 requests, with the configured status', async () => {
    const put = await sendJson('PUT', `${svc.legacy.url}/_admin/faults`, { errorRate: 0.2, errorStatus: 503 });
    expect(put.status).toBe(200);
    const rs = await statuses(`${svc.legacy.url}/accounts/A-000001/balance`, 1000);
    const failed = rs.filter((r) => r.status === 503).length;
    expect(rs.filter((r) => r.status !== 503 && r.status !== 200)).toEqual([]);
    expect(Math.abs(failed / 1000 - 0.2)).toBeLessThanOrEqual(0.05);
  });

  it('throttleRate 0.3 on V2: 429 share within 0.3 ± 0.05 over 1000 requests, each with Retry-After', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { throttleRate: 0.3 });
    const rs = await statuses(`${svc.v2.url}/members/M-000001`, 1000, FULL_KEY);
    const throttled = rs.filter((r) => r.status === 429);
    expect(rs.filter((r) => r.status !== 429 && r.status !== 200)).toEqual([]);
    expect(Math.abs(throttled.length / 1000 - 0.3)).toBeLessThanOrEqual(0.05);
    expect(throttled.every((r) => r.retryAfter === '1')).toBe(true);
  });

  it('a knob scoped to one endpoint leaves the others alone', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { 'errorRate:member': 1 });
    const member = await statuses(`${svc.v2.url}/members/M-000002`, 50, FULL_KEY);
    const balance = await statuses(`${svc.v2.url}/accounts/A-000002/balance`, 50, FULL_KEY);
    expect(member.every((r) => r.status === 500)).toBe(true);
    expect(balance.every((r) => r.status === 200)).toBe(true);
    expect((await getJson(`${svc.v2.url}/_admin/faults`)).body.faults['errorRate:member']).toBe(1);
  });
});

describe('latency knobs', () => {
  it('latencyMs 120 adds at least 120 ms to every answer, and ~nothing to an endpoint it is not scoped to', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { 'latencyMs:balance': 120 });
    const slow: number[] = [];
    const fast: number[] = [];
    for (let i = 0; i < 10; i++) {
      slow.push(await timed(`${svc.v2.url}/accounts/A-000003/balance`, FULL_KEY));
      fast.push(await timed(`${svc.v2.url}/members/M-000003`, FULL_KEY));
    }
    // floors only (a loaded machine makes answers slower, never faster); the unscoped endpoint,
    // measured between the same calls, answers faster than the scoped one's 120 ms floor
    expect(Math.min(...slow)).toBeGreaterThanOrEqual(119);
    expect(median(fast)).toBeLessThan(Math.min(...slow));
  });

  it('jitterMs spreads the added latency over [latencyMs, latencyMs + jitterMs)', async () => {
    await sendJson('PUT', `${svc.legacy.url}/_admin/faults`, { latencyMs: 20, jitterMs: 150 });
    const ts = await mapLimit(Array.from({ length: 30 }), 10, () => timed(`${svc.legacy.url}/members/M-000004`));
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(19);
    expect(Math.max(...ts) - Math.min(...ts)).toBeGreaterThan(50);
  });

  it('faults given at start apply from the first request (legacy latencyMs:wallet=30)', async () => {
    const fresh = await startServices({ legacyPort: 0, v2Port: 0, faults: { legacy: { 'latencyMs:wallet': 30 }, v2: { dropField: 'name' } } });
    try {
      expect(await timed(`${fresh.legacy.url}/wallets/W-000001`)).toBeGreaterThanOrEqual(29);
      expect((await getJson(`${fresh.v2.url}/wallets/W-000001`, FULL_KEY)).body.name).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});

describe('V2 bug knobs', () => {
  it('wrongBalanceShare 0.1: about 10 % of 600 accounts (±0.03) are off by exactly one minor unit, the same ones every time', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { wrongBalanceShare: 0.1 });
    const ids = Array.from({ length: 600 }, (_, i) => accountId(i + 1));
    const wrong = await mapLimit(ids, 16, async (id) => {
      const [l, v] = await Promise.all([getJson(`${svc.legacy.url}/accounts/${id}/balance`), getJson(`${svc.v2.url}/accounts/${id}/balance`, FULL_KEY)]);
      if (decimalEquals(l.body.balance, v.body.balance)) return undefined;
      const unit = l.body.currency === 'JPY' ? '1' : '0.01';
      expect(formatDecimal(subtractDecimal(parseDecimal(v.body.balance)!, parseDecimal(l.body.balance)!))).toBe(unit);
      expect(formatDecimal(subtractDecimal(parseDecimal(v.body.available)!, parseDecimal(l.body.available)!))).toBe(unit);
      return id;
    });
    const hit = wrong.filter((x): x is string => x !== undefined);
    expect(Math.abs(hit.length / 600 - 0.1)).toBeLessThanOrEqual(0.03);
    const again = await getJson(`${svc.v2.url}/accounts/${hit[0]}/balance`, FULL_KEY);
    const legacy = await getJson(`${svc.legacy.url}/accounts/${hit[0]}/balance`);
    expect(decimalEquals(again.body.balance, legacy.body.balance)).toBe(false);
  });

  it('dropField removes the field from V2 bodies (all endpoints, or one), legacy keeps it', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { 'dropField:balance': 'available' });
    const v = await getJson(`${svc.v2.url}/accounts/A-000001/balance`, FULL_KEY);
    expect(v.status).toBe(200);
    expect('available' in v.body).toBe(false);
    expect('available' in (await getJson(`${svc.legacy.url}/accounts/A-000001/balance`)).body).toBe(true);
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { dropField: 'currency' });
    expect('currency' in (await getJson(`${svc.v2.url}/accounts/A-000001/balance`, FULL_KEY)).body).toBe(false);
    expect('currency' in (await getJson(`${svc.legacy.url}/hierarchies/H-0001/balance`)).body).toBe(true);
    expect('currency' in (await getJson(`${svc.v2.url}/hierarchies/H-0001/balance`, FULL_KEY)).body).toBe(false);
  });

  it('GET /_admin/faults lists every knob with its value; DELETE resets them', async () => {
    await sendJson('PATCH', `${svc.v2.url}/_admin/faults`, { latencyMs: 5 });
    await sendJson('PATCH', `${svc.v2.url}/_admin/faults`, { errorRate: 0.01 });
    const got = (await getJson(`${svc.v2.url}/_admin/faults`)).body;
    expect(got.faults).toMatchObject({ latencyMs: 5, errorRate: 0.01, wrongBalanceShare: 0, dropField: '', doubleApplyRate: 0 });
    await sendJson('DELETE', `${svc.v2.url}/_admin/faults`);
    expect((await getJson(`${svc.v2.url}/_admin/faults`)).body.faults).toMatchObject({ latencyMs: 0, errorRate: 0 });
  });
});

describe('request counters', () => {
  it('count requests by method and route pattern, with those carrying x-cutover-shadow', async () => {
    await sendJson('DELETE', `${svc.legacy.url}/_admin/requests`);
    await fetch(`${svc.legacy.url}/accounts/A-000001/balance`).then((r) => r.arrayBuffer());
    await fetch(`${svc.legacy.url}/accounts/A-000002/balance`, { headers: { 'x-cutover-shadow': '1' } }).then((r) => r.arrayBuffer());
    await fetch(`${svc.legacy.url}/transactions`, { method: 'POST' }).then((r) => r.arrayBuffer());
    await fetch(`${svc.legacy.url}/nowhere`).then((r) => r.arrayBuffer());
    const c = (await getJson(`${svc.legacy.url}/_admin/requests`)).body;
    expect(c.byRoute['GET /accounts/:accountId/balance']).toEqual({ count: 2, shadow: 1 });
    expect(c.byRoute['POST /transactions']).toEqual({ count: 1, shadow: 0 });
    expect(c.byRoute['GET (unmatched)']).toEqual({ count: 1, shadow: 0 });
    expect(c.total).toBe(4);
    expect(c.shadow).toBe(1);
  });
});
