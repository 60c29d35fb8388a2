/**
 * POST /transactions with Idempotency-Key: 201 then 200 with the same transaction, the
 * balance moved once; the V2 double-apply knob really writes twice, visible in the
 * idempotency records; a reused key with another body is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decimalEquals, parseDecimal, subtractDecimal, formatDecimal } from '../../shared/decimal.js';
import { startServices, type RunningServices } from '../../services/index.js';
import { FULL_KEY, getJson, postJson, sendJson } from './helpers.js';

let svc: RunningServices;

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});

const balanceOf = async (base: string, id: string) => (await getJson(`${base}/accounts/${id}/balance`, FULL_KEY)).body.balance;
const diff = (a: unknown, b: unknown) => formatDecimal(subtractDecimal(parseDecimal(a)!, parseDecimal(b)!));

describe('POST /transactions idempotency', () => {
  it('first POST is 201, the repeat is 200 with the same transaction, and the balance moves once', async () => {
    const before = await balanceOf(svc.legacy.url, 'A-000010');
    const body = { accountId: 'A-000010', type: 'credit', amount: '25.10', currency: (await getJson(`${svc.legacy.url}/accounts/A-000010/balance`)).body.currency };
    const first = await postJson(`${svc.legacy.url}/transactions`, body, { 'idempotency-key': 'idem-legacy-1' });
    expect(first.status).toBe(201);
    const again = await postJson(`${svc.legacy.url}/transactions`, body, { 'idempotency-key': 'idem-legacy-1' });
    expect(again.status).toBe(200);
    expect(again.body.transaction).toEqual(first.body.transaction);
    expect(again.body.requestId).not.toBe(first.body.requestId);
    const after = await balanceOf(svc.legacy.url, 'A-000010');
    expect(body.currency).not.toBe('JPY'); // the amount has cents
    expect(diff(after, before)).toBe('25.1');
    const rec = (await getJson(`${svc.legacy.url}/_admin/postings?key=idem-legacy-1`)).body;
    expect(rec.postings).toHaveLength(1);
    expect(rec.postings[0]).toMatchObject({ applied: 1, requests: 2, appliedBy: { legacy: 1, v2: 0 }, transactionId: first.body.transaction.id });
  });

  it('V2 honours the same key (shared ledger): a retry sent to V2 after legacy applied it is a 200 replay', async () => {
    const body = { accountId: 'A-000001', type: 'debit', amount: 3, currency: 'USD' };
    const before = await balanceOf(svc.v2.url, 'A-000001');
    const l = await postJson(`${svc.legacy.url}/transactions`, body, { 'idempotency-key': 'idem-shared-1' });
    const v = await postJson(`${svc.v2.url}/transactions`, body, { ...FULL_KEY, 'idempotency-key': 'idem-shared-1' });
    expect([l.status, v.status]).toEqual([201, 200]);
    expect(v.body.transaction.id).toBe(l.body.transaction.id);
    expect(decimalEquals(v.body.transaction.amount, l.body.transaction.amount)).toBe(true);
    expect(Date.parse(v.body.transaction.postedAt)).toBe(Date.parse(l.body.transaction.postedAt));
    expect(diff(before, await balanceOf(svc.v2.url, 'A-000001'))).toBe('3');
  });

  it('the same key with a different request is a 409 naming Idempotency-Key, and nothing is posted', async () => {
    const body = { accountId: 'A-000001', type: 'credit', amount: '1.00', currency: 'USD' };
    expect((await postJson(`${svc.legacy.url}/transactions`, body, { 'idempotency-key': 'idem-conflict' })).status).toBe(201);
    const before = await balanceOf(svc.legacy.url, 'A-000001');
    const r = await postJson(`${svc.legacy.url}/transactions`, { ...body, amount: '2.00' }, { 'idempotency-key': 'idem-conflict' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CUTOVER_ERR_SVC_IDEMPOTENCY_CONFLICT');
    expect(r.body.error.message).toContain('Idempotency-Key');
    expect(await balanceOf(svc.legacy.url, 'A-000001')).toBe(before);
  });

  it('a new posting appears at the top of the transactions list and old cursors stay valid', async () => {
    const page1 = (await getJson(`${svc.legacy.url}/accounts/A-000020/transactions?limit=5`)).body;
    const acc = (await getJson(`${svc.legacy.url}/accounts/A-000020/balance`)).body;
    const p = await postJson(`${svc.legacy.url}/transactions`, { accountId: 'A-000020', type: 'credit', amount: '7', currency: acc.currency }, { 'idempotency-key': 'idem-page' });
    const page2 = (await getJson(`${svc.legacy.url}/accounts/A-000020/transactions?limit=5&cursor=${page1.nextCursor}`)).body;
    const fresh = (await getJson(`${svc.legacy.url}/accounts/A-000020/transactions?limit=5`)).body;
    expect(fresh.transactions[0].id).toBe(p.body.transaction.id);
    const again = (await getJson(`${svc.legacy.url}/accounts/A-000020/transactions?limit=5&cursor=${page1.nextCursor}`)).body;
    expect(again.transactions.map((t: any) => t.id)).toEqual(page2.transactions.map((t: any) => t.id));
    expect(page2.transactions.map((t: any) => t.id)).not.toContain(page1.transactions[0].id);
  });
});

describe('V2 double-apply bug knob', () => {
  it('doubleApplyRate=1 writes every new posting twice: balance moves twice, the record says applied 2', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { doubleApplyRate: 1 });
    try {
      const before = await balanceOf(svc.v2.url, 'A-000005');
      const cur = (await getJson(`${svc.v2.url}/accounts/A-000005/balance`, FULL_KEY)).body.currency;
      const r = await postJson(`${svc.v2.url}/transactions`, { accountId: 'A-000005', type: 'credit', amount: '10', currency: cur }, { ...FULL_KEY, 'idempotency-key': 'idem-double' });
      expect(r.status).toBe(201);
      const after = await balanceOf(svc.v2.url, 'A-000005');
      expect(decimalEquals(diff(after, before), '20')).toBe(true);
      const rec = (await getJson(`${svc.v2.url}/_admin/postings?key=idem-double`)).body;
      expect(rec.postings[0]).toMatchObject({ applied: 2, appliedBy: { legacy: 0, v2: 2 } });
      // a retry still applies nothing more
      const retry = await postJson(`${svc.v2.url}/transactions`, { accountId: 'A-000005', type: 'credit', amount: '10', currency: cur }, { ...FULL_KEY, 'idempotency-key': 'idem-double' });
      expect(retry.status).toBe(200);
      expect(await balanceOf(svc.v2.url, 'A-000005')).toBe(after);
    } finally {
      await sendJson('DELETE', `${svc.v2.url}/_admin/faults`);
    }
  });

  it('doubleApplyRate=0.5 doubles about half of 200 new postings (±0.12), counted by appliedMoreThanOnce', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { doubleApplyRate: 0.5 });
    const before = (await getJson(`${svc.v2.url}/_admin/postings`)).body.appliedMoreThanOnce;
    try {
      for (let i = 0; i < 200; i++) {
        const r = await postJson(`${svc.v2.url}/transactions`, { accountId: 'A-000001', type: 'credit', amount: '0.01', currency: 'USD' }, { ...FULL_KEY, 'idempotency-key': `idem-rate-${i}` });
        expect(r.status).toBe(201);
      }
    } finally {
      await sendJson('DELETE', `${svc.v2.url}/_admin/faults`);
    }
    const doubled = (await getJson(`${svc.v2.url}/_admin/postings`)).body.appliedMoreThanOnce - before;
    expect(Math.abs(doubled / 200 - 0.5)).toBeLessThanOrEqual(0.12);
  });

  it('legacy refuses the V2-only bug knob with a 400 naming it', async () => {
    const r = await sendJson('PUT', `${svc.legacy.url}/_admin/faults`, { doubleApplyRate: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('doubleApplyRate');
  });
});
