import { describe, expect, it } from 'vitest';
import { VerdictBook } from '../../verifier/book.js';
import { comparePair } from '../../verifier/compare.js';
import { Redactor } from '../../verifier/redact.js';
import { finishVerdict } from '../../verifier/verdict.js';
import type { Verdict } from '../../verifier/types.js';
import { makePair } from './helpers.js';

/** A deterministic stream: /servedAt and /flaky are noisy, /balance and /fee are real V2 differences. */
function stream(n: number) {
  const redactor = new Redactor();
  const book = new VerdictBook({ random: () => 0.5 });
  const verdicts: Array<{ v: Verdict; real: boolean }> = [];
  for (let i = 0; i < n; i++) {
    const withReplica = i % 5 === 0; // 20 % of pairs have a replica answer
    const base = { balance: '100.00', fee: '1.00', flaky: 'a', servedAt: `t${i}` };
    const legacy = { ...base };
    const v2 = { ...base, servedAt: `t${i}-v2` };
    const real = i % 20 === 7 || i % 2 === 1;
    if (i % 20 === 7) v2.balance = '100.01'; // 5 % of pairs: a real balance drift, never between legacy and replica
    if (i % 2 === 1) v2.fee = '1.10'; // 50 % for V2 ...
    if (i % 10 === 3) v2.flaky = 'b'; // 10 % for V2 ...
    const replica = withReplica ? { ...base, servedAt: `t${i}-r`, fee: i % 50 === 0 ? '1.20' : base.fee, flaky: i % 50 === 0 ? 'c' : 'a' } : undefined;
    // ... replica differs on /fee and /flaky in 10 % of replica pairs (i % 50 === 0 among i % 5 === 0)
    const pair = makePair({ body: legacy }, { body: v2 }, { id: `p${i}`, replica: replica ? { body: replica } : undefined });
    verdicts.push({ v: book.add(finishVerdict(comparePair(pair, { compare: { decimal: ['/balance', '/fee'] } }), redactor)), real });
  }
  return { book, verdicts };
}

describe('noise cancellation', () => {
  it('reports the real path, keeps the noisy ones visible as noise', () => {
    const { book } = stream(4000);
    const route = book.snapshot().routes[0];
    const byPath = Object.fromEntries(route.paths.map((p) => [p.path, p]));
    expect(byPath['/servedAt'].noiseInfo?.noisy).toBe(true);
    expect(byPath['/flaky'].noiseInfo?.noisy).toBe(true);
    expect(byPath['/balance'].noiseInfo).toEqual({ replicaPairs: 800, noiseCount: 0, v2CountWithReplica: 0, noisy: false });
    expect(byPath['/fee'].noiseInfo?.noisy).toBe(false);
    // counted: the real paths count every pair; the noisy ones only until the noise was measured
    expect(byPath['/balance'].count).toBe(200);
    expect(byPath['/fee'].count).toBe(2000);
    expect(byPath['/servedAt'].noise).toBeGreaterThan(3800);
    expect(byPath['/servedAt'].count).toBeLessThan(200);
    expect(byPath['/flaky'].noise).toBeGreaterThan(300);
  });

  it('once noise is measured, a pair whose only differences are noise is not a mismatch, and every real one is', () => {
    const { verdicts } = stream(4000);
    for (const { v, real } of verdicts.slice(500)) {
      expect(v.result).toBe(real ? 'mismatch' : 'noise');
      if (real) expect(v.findings[0].noise).toBeUndefined();
    }
  });

  it('never calls a path noise when legacy never differed from its replica on it', () => {
    const book = new VerdictBook();
    const redactor = new Redactor();
    for (let i = 0; i < 200; i++) {
      const pair = makePair({ body: { a: 1 } }, { body: { a: 2 } }, { replica: { body: { a: 1 } } });
      book.add(finishVerdict(comparePair(pair, {}), redactor));
    }
    const p = book.snapshot().routes[0].paths[0];
    expect(p.noiseInfo?.noisy).toBe(false);
    expect(p.count).toBe(200);
  });

  it('uses the configured thresholds', () => {
    const strict = new VerdictBook({ noise: { relative: 0, absolute: 0 } });
    const lax = new VerdictBook({ noise: { relative: 10, absolute: 0.5 } });
    const redactor = new Redactor();
    for (let i = 0; i < 100; i++) {
      // V2 differs in 30 % of pairs, the replica in 20 %
      const pair = makePair({ body: { a: 1 } }, { body: { a: i % 10 < 3 ? 2 : 1 } }, { replica: { body: { a: i % 10 < 2 ? 3 : 1 } } });
      const v = comparePair(pair, {});
      strict.add(finishVerdict(structuredClone(v), redactor));
      lax.add(finishVerdict(v, redactor));
    }
    expect(strict.snapshot().routes[0].paths[0].noiseInfo?.noisy).toBe(false);
    expect(lax.snapshot().routes[0].paths[0].noiseInfo?.noisy).toBe(true);
  });
});

describe('suspected volatile paths without a replica', () => {
  it('flags a request-id path in the aggregates, not the balance', () => {
    const book = new VerdictBook();
    const redactor = new Redactor();
    for (let i = 0; i < 10; i++) {
      const pair = makePair({ body: { requestId: `req-${i}aaaaaa`, balance: '1.00' } }, { body: { requestId: `req-${i}bbbbbb`, balance: i ? '1.00' : '2.00' } });
      book.add(finishVerdict(comparePair(pair, {}), redactor));
    }
    const paths = Object.fromEntries(book.snapshot().routes[0].paths.map((p) => [p.path, p.suspectedVolatile]));
    expect(paths).toEqual({ '/requestId': true, '/balance': false });
  });
});
