import { describe, expect, it } from 'vitest';
import { RECENT_PLAIN_MATCHES, RecentVerdicts } from '../../verifier/recent.js';
import type { Verdict } from '../../verifier/types.js';

function verdict(i: number, result: Verdict['result'], route = 'balance'): Verdict {
  return {
    schemaVersion: 1,
    pairId: `p-${i}`,
    route,
    method: 'GET',
    path: `/accounts/${i}/balance`,
    at: new Date(Date.UTC(2026, 10, 23, 0, 0, 0, i)).toISOString(),
    result,
    findings: result === 'mismatch' ? [{ path: '/balance', pointer: '/balance', kind: 'value', legacy: '1.00', v2: '1.01' }] : [],
    status: { legacy: 200, v2: 200 },
    latencyMs: { legacy: 1, v2: 1 },
    body: 'json',
  } as Verdict;
}

describe('recent verdicts', () => {
  it('answers newest first across plain matches and everything else, in arrival order', () => {
    const r = new RecentVerdicts(1000);
    const results: Verdict['result'][] = ['match', 'mismatch', 'match', 'match', 'error', 'mismatch', 'match'];
    results.forEach((res, i) => r.push(verdict(i, res)));
    expect(r.query().map((v) => v.pairId)).toEqual(['p-6', 'p-5', 'p-4', 'p-3', 'p-2', 'p-1', 'p-0']);
    expect(r.query({ result: 'mismatch' }).map((v) => v.pairId)).toEqual(['p-5', 'p-1']);
    expect(r.query({ limit: 3 }).map((v) => v.pairId)).toEqual(['p-6', 'p-5', 'p-4']);
    expect(r.query({ path: '/balance' }).map((v) => v.pairId)).toEqual(['p-5', 'p-1']);
  });

  it(`keeps the last ${RECENT_PLAIN_MATCHES} plain matches, and verdicts with findings up to the full capacity`, () => {
    const r = new RecentVerdicts(1000);
    for (let i = 0; i < 3000; i++) r.push(verdict(i, i % 3 === 0 ? 'mismatch' : 'match'));
    const matches = r.query({ result: 'match', limit: 1000 });
    expect(matches).toHaveLength(RECENT_PLAIN_MATCHES);
    expect(matches[0].pairId).toBe('p-2999');
    const mismatches = r.query({ result: 'mismatch', limit: 1000 });
    expect(mismatches).toHaveLength(1000);
    expect(mismatches[0].pairId).toBe('p-2997');
    expect(mismatches[999].pairId).toBe('p-0');
    expect(r.length).toBe(1000 + RECENT_PLAIN_MATCHES);
    // the merged view is still strictly newest first
    const all = r.query({ limit: 1000 }).map((v) => Number(v.pairId.slice(2)));
    expect(all).toEqual([...all].sort((a, b) => b - a));
    r.clear();
    expect(r.query()).toEqual([]);
  });

  it('a small capacity bounds both rings', () => {
    const r = new RecentVerdicts(5);
    for (let i = 0; i < 20; i++) r.push(verdict(i, i % 2 ? 'match' : 'noise'));
    expect(r.query({ limit: 100 }).map((v) => v.pairId)).toEqual(['p-19', 'p-18', 'p-17', 'p-16', 'p-15', 'p-14', 'p-13', 'p-12', 'p-11', 'p-10']);
  });
});
