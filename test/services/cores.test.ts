/** The pure cores of the services: money parsing, time forms, token bucket, fault specs, PRNG. */
import { describe, expect, it } from 'vitest';
import { parseAmount, formatMoney, moneyAsNumber } from '../../services/money.js';
import { legacyTime, v2Time } from '../../services/views/time.js';
import { takeToken } from '../../services/platform/token-bucket.js';
import { parseFaultMap, faultsByService, FaultState, accountInShare } from '../../services/faults.js';
import { SINGLE_LAYOUT, SPLIT_LAYOUT } from '../../services/catalogue.js';
import { mulberry32 } from '../../services/data/prng.js';
import { createDataset, generateHistory } from '../../services/data/dataset.js';

describe('money', () => {
  it('reads amounts exactly into minor units, per currency scale', () => {
    expect(parseAmount('10.5', 'USD')).toEqual({ ok: true, minor: 1050 });
    expect(parseAmount(0.1, 'EUR')).toEqual({ ok: true, minor: 10 });
    expect(parseAmount('1e2', 'GBP')).toEqual({ ok: true, minor: 10000 });
    expect(parseAmount('1234', 'JPY')).toEqual({ ok: true, minor: 1234 });
    expect(parseAmount('12.3', 'JPY')).toMatchObject({ ok: false, reason: expect.stringContaining('no minor unit') });
    expect(parseAmount('0.001', 'USD')).toMatchObject({ ok: false, reason: 'must have at most 2 decimals' });
    expect(parseAmount('1000000000.01', 'USD')).toMatchObject({ ok: false });
    expect(parseAmount(NaN, 'USD')).toMatchObject({ ok: false });
    expect(parseAmount(true, 'USD')).toMatchObject({ ok: false });
  });

  it('writes fixed-scale strings for V2 and equal numbers for legacy', () => {
    expect(formatMoney(123450, 'USD')).toBe('1234.50');
    expect(formatMoney(-5, 'EUR')).toBe('-0.05');
    expect(formatMoney(1234, 'JPY')).toBe('1234');
    expect(moneyAsNumber(123450, 'USD')).toBe(1234.5);
    expect(JSON.stringify(moneyAsNumber(10, 'USD'))).toBe('0.1');
    // every cent value up to 10^9 prints back as its exact decimal text
    const rng = mulberry32(1);
    for (let i = 0; i < 10_000; i++) {
      const minor = Math.floor(rng() * 1e11);
      expect(String(moneyAsNumber(minor, 'USD'))).toBe(String(Number(formatMoney(minor, 'USD'))));
      expect(Number(formatMoney(minor, 'USD')).toFixed(2)).toBe(formatMoney(minor, 'USD'));
    }
  });
});

describe('time forms', () => {
  it('legacy and V2 write the same instant', () => {
    const whole = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(legacyTime(whole)).toBe('2026-01-02T03:04:05.000Z');
    expect(v2Time(whole)).toBe('2026-01-02T03:04:05+00:00');
    expect(v2Time(whole + 123)).toBe('2026-01-02T03:04:05.123+00:00');
    expect(Date.parse(v2Time(whole + 123))).toBe(whole + 123);
  });
});

describe('token bucket', () => {
  it('allows the burst, then one token per 1/rate seconds, and says when to retry', () => {
    let b = undefined as ReturnType<typeof takeToken>['bucket'] | undefined;
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const r = takeToken(b, 1000, 5, 5);
      b = r.bucket;
      results.push(r.allowed);
    }
    expect(results).toEqual([true, true, true, true, true, false]);
    expect(takeToken(b, 1000, 5, 5).retryAfterMs).toBe(200);
    expect(takeToken(b, 1200, 5, 5).allowed).toBe(true);
    expect(takeToken(b, 1000 + 60_000, 5, 5).bucket.tokens).toBe(4); // refills to the burst, not beyond
  });
});

describe('fault specs', () => {
  it('parses knobs, endpoint scopes and string values from the CLI', () => {
    const s = parseFaultMap({ latencyMs: '50', 'errorRate:balance': 0.2, dropField: 'available' }, 'v2');
    expect(s.all).toEqual({ latencyMs: 50, dropField: 'available' });
    expect(s.byEndpoint).toEqual({ balance: { errorRate: 0.2 } });
  });

  it('names every unknown knob and bad value at once', () => {
    expect(() => parseFaultMap({ bogus: 1, 'latencyMs:nowhere': 1, errorRate: 2 }, 'v2')).toThrow(/bogus, latencyMs:nowhere.*errorRate: must be a number between 0 and 1/s);
    expect(() => parseFaultMap({ wrongBalanceShare: 0.1 }, 'legacy')).toThrow(/V2-only/);
    expect(() => parseFaultMap({ latencyMs: 1.5 }, 'legacy')).toThrow(/latencyMs: must be whole milliseconds/);
  });

  it('splits CLI args by service prefix; V2-only knobs go to V2', () => {
    expect(faultsByService(['latencyMs=5', 'v2.errorRate:balance=0.1', 'legacy.throttleRate=0.2', 'wrongBalanceShare=0.1'], SINGLE_LAYOUT)).toEqual({
      legacy: { latencyMs: '5', throttleRate: '0.2' },
      v2: { latencyMs: '5', 'errorRate:balance': '0.1', wrongBalanceShare: '0.1' },
    });
    expect(() => faultsByService(['latencyMs'], SINGLE_LAYOUT)).toThrow(/NAME=VALUE/);
  });

  it('in the split layout a knob goes to the services named, or to every one that has it and serves its endpoint', () => {
    expect(faultsByService(['latencyMs=5', 'errorRate:wallet=0.1', 'wrongBalanceShare=0.2', 'statements-v2.throttleRate=0.3', 'v2.jitterMs=4'], SPLIT_LAYOUT)).toEqual({
      legacy: { latencyMs: '5', 'errorRate:wallet': '0.1' },
      'transactions-v2': { latencyMs: '5', wrongBalanceShare: '0.2', jitterMs: '4' },
      'statements-v2': { latencyMs: '5', wrongBalanceShare: '0.2', throttleRate: '0.3', jitterMs: '4' },
      'wallets-v2': { latencyMs: '5', 'errorRate:wallet': '0.1', wrongBalanceShare: '0.2', jitterMs: '4' },
      'members-v2': { latencyMs: '5', wrongBalanceShare: '0.2', jitterMs: '4' },
    });
    expect(() => faultsByService(['members-v2.latencyMs:wallet=5'], SPLIT_LAYOUT)).toThrow(/members-v2: latencyMs:wallet: members-v2 does not serve wallet/);
    expect(() => faultsByService(['billing-v2.latencyMs=5'], SPLIT_LAYOUT)).toThrow(/no service billing-v2/);
    expect(() => faultsByService(['legacy.dropField=x'], SPLIT_LAYOUT)).toThrow(/V2-only bug knob/);
  });

  it('scoped values win over global ones; merge keeps the rest', () => {
    const f = new FaultState('v2', { latencyMs: 10, 'latencyMs:balance': 100 });
    expect(f.get('balance', 'latencyMs')).toBe(100);
    expect(f.get('member', 'latencyMs')).toBe(10);
    f.merge({ errorRate: 0.5 });
    expect(f.get('member', 'latencyMs')).toBe(10);
    expect(f.get('member', 'errorRate')).toBe(0.5);
    f.replace({});
    expect(f.get('balance', 'latencyMs')).toBe(0);
  });

  it('the wrong-balance share is fixed per account and close to the share over many accounts', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `A-${String(i + 1).padStart(6, '0')}`);
    const n = ids.filter((id) => accountInShare(id, 0.1)).length;
    expect(Math.abs(n / 10_000 - 0.1)).toBeLessThan(0.01);
    expect(ids.filter((id) => accountInShare(id, 0.1))).toEqual(ids.filter((id) => accountInShare(id, 0.1)));
    expect(accountInShare('A-000001', 0)).toBe(false);
  });
});

describe('seeded data', () => {
  it('is deterministic per seed, and histories never go below zero', () => {
    const a = createDataset(42);
    const b = createDataset(42);
    expect([...a.accounts.values()].slice(0, 50)).toEqual([...b.accounts.values()].slice(0, 50));
    for (const acc of [...a.accounts.values()].slice(0, 300)) {
      const { txns } = generateHistory(42, acc);
      let bal = 0;
      for (const t of txns) {
        expect(Number.isInteger(t.amountMinor)).toBe(true);
        bal += t.type === 'credit' ? t.amountMinor : -t.amountMinor;
        expect(bal).toBeGreaterThanOrEqual(0);
      }
      expect(txns.map((t) => t.postedAt)).toEqual(txns.map((t) => t.postedAt).slice().sort((x, y) => x - y));
    }
    expect(a.hierarchies.get('H-BIG')!.accountCount).toBe(200_000);
  });
});
