/**
 * Client mistakes get a 4xx JSON error naming the field, never a 500, and change nothing.
 * Checked on legacy and on V2 (with a valid key), which must answer them alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServices, type RunningServices } from '../../services/index.js';
import { FULL_KEY, getJson, postJson } from './helpers.js';

let svc: RunningServices;

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});

const good = { accountId: 'A-000001', type: 'credit', amount: '10.00', currency: 'USD' };

interface Case {
  name: string;
  body: unknown;
  key?: string | null;
  status: number;
  field: string;
  contains?: string;
}

const POST_CASES: Case[] = [
  { name: 'an amount with more than two decimals', body: { ...good, amount: '10.001' }, status: 400, field: 'amount', contains: 'at most 2 decimals' },
  { name: 'an amount with more than two decimals as a number', body: { ...good, amount: 10.125 }, status: 400, field: 'amount', contains: 'at most 2 decimals' },
  { name: 'a non-numeric amount', body: { ...good, amount: 'ten' }, status: 400, field: 'amount', contains: 'decimal' },
  { name: 'an amount of another type', body: { ...good, amount: { value: 10 } }, status: 400, field: 'amount' },
  { name: 'a zero amount', body: { ...good, amount: '0' }, status: 400, field: 'amount', contains: 'greater than 0' },
  { name: 'a negative amount', body: { ...good, amount: '-5' }, status: 400, field: 'amount', contains: 'greater than 0' },
  { name: 'a missing amount', body: { ...good, amount: undefined }, status: 400, field: 'amount', contains: 'required' },
  { name: 'an unknown currency', body: { ...good, currency: 'XYZ' }, status: 400, field: 'currency', contains: 'not a known currency' },
  { name: 'a currency other than the account’s', body: { ...good, currency: 'EUR' }, status: 400, field: 'currency', contains: 'holds USD' },
  { name: 'an unknown account', body: { ...good, accountId: 'A-999999' }, status: 400, field: 'accountId', contains: 'does not exist' },
  { name: 'a missing account', body: { ...good, accountId: undefined }, status: 400, field: 'accountId', contains: 'required' },
  { name: 'an unknown type', body: { ...good, type: 'refund' }, status: 400, field: 'type' },
  { name: 'an unknown field', body: { ...good, memo: 'x' }, status: 400, field: 'memo', contains: 'unknown field' },
  { name: 'a missing Idempotency-Key', body: good, key: null, status: 400, field: 'Idempotency-Key', contains: 'required' },
  { name: 'an Idempotency-Key with spaces', body: good, key: 'not a key', status: 400, field: 'Idempotency-Key', contains: 'visible ASCII' },
  { name: 'a body that is not an object', body: '[1,2]', status: 400, field: 'body' },
  { name: 'a body that is not JSON', body: '{"accountId": ', status: 400, field: 'body', contains: 'not valid JSON' },
];

describe('POST /transactions bad input', () => {
  for (const c of POST_CASES) {
    it(`${c.name}: ${c.status} naming ${c.field}`, async () => {
      for (const [base, extra] of [
        [svc.legacy.url, {}],
        [svc.v2.url, FULL_KEY],
      ] as Array<[string, Record<string, string>]>) {
        const key: Record<string, string> = c.key === null ? {} : { 'idempotency-key': c.key ?? `bad-${c.name.replace(/[^A-Za-z0-9]+/g, '-')}` };
        const r = await postJson(`${base}/transactions`, c.body, { ...extra, ...key });
        expect(r.status, `${base} ${JSON.stringify(r.body)}`).toBe(c.status);
        expect(r.body.error.code).toMatch(/^CUTOVER_ERR_SVC_/);
        expect(r.body.error.message).toContain(`${c.field}:`);
        if (c.contains) expect(r.body.error.message).toContain(c.contains);
      }
    });
  }

  it('JPY refuses decimals ("has no minor unit") and takes whole amounts', async () => {
    const jpy = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]
      .map((n) => `A-${String(n).padStart(6, '0')}`);
    let id: string | undefined;
    for (const a of jpy) if ((await getJson(`${svc.legacy.url}/accounts/${a}/balance`)).body.currency === 'JPY') id = a ?? id;
    expect(id).toBeDefined();
    const bad = await postJson(`${svc.legacy.url}/transactions`, { accountId: id, type: 'credit', amount: '100.5', currency: 'JPY' }, { 'idempotency-key': 'jpy-bad' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('amount: JPY has no minor unit');
    const ok = await postJson(`${svc.legacy.url}/transactions`, { accountId: id, type: 'credit', amount: 100, currency: 'JPY' }, { 'idempotency-key': 'jpy-ok' });
    expect(ok.status).toBe(201);
    expect(ok.body.transaction.amount).toBe(100);
  });

  it('a body that is not JSON by content-type is a 415 naming content-type', async () => {
    const r = await fetch(`${svc.legacy.url}/transactions`, { method: 'POST', headers: { 'content-type': 'text/plain', 'idempotency-key': 'txt' }, body: 'hello' });
    expect(r.status).toBe(415);
    expect((await r.json()).error.message).toContain('content-type:');
  });

  it('a body over 64 KiB is a 413 naming body', async () => {
    const r = await postJson(`${svc.legacy.url}/transactions`, { ...good, description: 'x'.repeat(70_000) }, { 'idempotency-key': 'big' });
    expect(r.status).toBe(413);
    expect(r.body.error.message).toContain('body: larger than 65536 bytes');
  });

  it('several mistakes at once are all named', async () => {
    const r = await postJson(`${svc.legacy.url}/transactions`, { accountId: 'A-000001', type: 'x', amount: '1.234', currency: 'XYZ' }, { 'idempotency-key': 'multi' });
    expect(r.status).toBe(400);
    for (const f of ['type:', 'amount:', 'currency:']) expect(r.body.error.message).toContain(f);
  });

  it('nothing is posted by a refused request', async () => {
    const before = (await getJson(`${svc.legacy.url}/_admin/postings`)).body.total;
    await postJson(`${svc.legacy.url}/transactions`, { ...good, amount: '1.001' }, { 'idempotency-key': 'never' });
    expect((await getJson(`${svc.legacy.url}/_admin/postings`)).body.total).toBe(before);
    expect((await getJson(`${svc.legacy.url}/_admin/postings?key=never`)).body.total).toBe(0);
  });
});

describe('query and path parameters', () => {
  const CASES: Array<[string, number, string]> = [
    ['/accounts/A-000001/transactions?limit=0', 400, 'limit:'],
    ['/accounts/A-000001/transactions?limit=101', 400, 'limit:'],
    ['/accounts/A-000001/transactions?limit=abc', 400, 'limit:'],
    ['/accounts/A-000001/transactions?limit=5.5', 400, 'limit:'],
    ['/accounts/A-000001/transactions?cursor=!!!', 400, 'cursor:'],
    ['/accounts/A-000001/transactions?cursor=bm90LWEtY3Vyc29y', 400, 'cursor:'],
    [`/accounts/A-000001/transactions?cursor=${Buffer.from('A-000002|T-000002-0001').toString('base64url')}`, 400, 'cursor: was issued for account A-000002'],
    ['/accounts/A-000001/statements/2025-13', 400, 'period:'],
    ['/accounts/A-000001/statements/2025-1', 400, 'period:'],
    ['/accounts/A-000001/statements/march', 400, 'period:'],
    ['/accounts/A-000001/statements/2099-01', 404, 'statement 2099-01 does not exist'],
    ['/accounts/A-999999/statements/2025-01', 404, 'account A-999999 does not exist'],
    ['/accounts/A-999999/balance', 404, 'account A-999999 does not exist'],
    ['/members/nobody', 404, 'member nobody does not exist'],
    ['/wallets/W-000000', 404, 'wallet W-000000 does not exist'],
    ['/hierarchies/H-NONE/balance', 404, 'hierarchy H-NONE does not exist'],
    ['/no/such/route', 404, 'no route GET /no/such/route'],
  ];
  for (const [path, status, text] of CASES) {
    it(`${path} -> ${status} "${text}"`, async () => {
      const [l, v] = await Promise.all([getJson(svc.legacy.url + path), getJson(svc.v2.url + path, FULL_KEY)]);
      for (const r of [l, v]) {
        expect(r.status).toBe(status);
        expect(r.headers.get('content-type')).toContain('application/json');
        expect(r.body.error.message).toContain(text);
      }
      expect(v.body).toEqual(l.body);
    });
  }
});

describe('admin fault endpoint input', () => {
  it('rejects unknown knobs with a 400 naming each, and changes nothing', async () => {
    const before = (await getJson(`${svc.v2.url}/_admin/faults`)).body.faults;
    const r = await fetch(`${svc.v2.url}/_admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 5, bogus: 1, 'errorRate:nowhere': 0.1 }),
    });
    const body = await r.json();
    expect(r.status).toBe(400);
    expect(body.error.message).toContain('bogus');
    expect(body.error.message).toContain('errorRate:nowhere');
    expect((await getJson(`${svc.v2.url}/_admin/faults`)).body.faults).toEqual(before);
  });

  it('rejects out-of-range values naming the knob', async () => {
    const r = await fetch(`${svc.legacy.url}/_admin/faults`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ errorRate: 1.5, latencyMs: -1 }),
    });
    const body = await r.json();
    expect(r.status).toBe(400);
    expect(body.error.message).toContain('errorRate: must be a number between 0 and 1');
    expect(body.error.message).toContain('latencyMs: must be whole milliseconds');
  });
});
