/**
 * The report builder on a hand-written verifier aggregate (fixtures/aggregate.ts): statuses of
 * paths (open, waived, noise), verdicts against thresholds, caps, excerpts of example bodies
 * with the differing lines marked, numbers kept exactly as the upstream wrote them.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MISMATCH_THRESHOLD, buildReport } from '../../reports/build.js';
import { escMd, mdCode } from '../../reports/escape.js';
import { parseLossless, prettyLines } from '../../reports/json-tree.js';
import { parseRate, parseSince } from '../../reports/options.js';
import type { Waiver } from '../../shared/state/types.js';
import type { StatsSnapshot } from '../../shared/stats/types.js';
import { AGGREGATE, EXAMPLE_PAIRS, PLANTED_SECRET } from './fixtures/aggregate.js';

const WAIVER: Waiver = {
  id: 'w1',
  route: 'balance',
  path: '/card/number',
  kind: 'value',
  reason: 'V2 masks card numbers on purpose',
  author: 'qa@example',
  createdAt: '2026-11-22T00:00:00.000Z',
  expiresAt: '2026-12-31T00:00:00.000Z',
};

/** A proxy stats snapshot where one route served `n` requests from legacy. */
function statsWith(route: string, n: number): StatsSnapshot {
  const counters = (requests: number) => ({ requests, s2xx: requests, s3xx: 0, s4xx: 0, s5xx: 0, throttled: 0, timeouts: 0, connectErrors: 0, latency: { count: 0, sum: 0, min: 0, max: 0, buckets: [] } });
  return {
    schemaVersion: 1,
    replicaId: 'r1',
    from: '2026-11-23T11:00:00.000Z',
    to: '2026-11-23T12:00:00.000Z',
    appliedVersion: 1,
    routes: {
      [route]: {
        served: { legacy: counters(n), v2: counters(0) },
        shadow: { sent: 0, dropped: 0, timeouts: 0, errors: 0, skippedUnsafe: 0, skippedBody: 0, sampledOut: 0, s5xx: 0, throttled: 0, suspended: 0 },
        missingStickyKey: 0,
        diffs: { pairs: 0, match: 0, mismatch: 0, waived: 0, noise: 0, error: 0 },
        shadowLatency: { count: 0, sum: 0, min: 0, max: 0, buckets: [] },
      },
    },
  } as unknown as StatsSnapshot;
}

const build = (extra: Partial<Parameters<typeof buildReport>[0]> = {}) =>
  buildReport({
    aggregate: AGGREGATE,
    pairs: new Map(EXAMPLE_PAIRS.map((p) => [p.id, p])),
    redaction: { paths: ['/card/number'] },
    waivers: [WAIVER],
    now: '2026-11-23T12:00:00.000Z',
    ...extra,
  });

describe('buildReport', () => {
  it('gives each path its status and counts: open first, then waived and noise', () => {
    const m = build();
    const b = m.routes.find((r) => r.name === 'balance')!;
    expect(b.paths.map((p) => [p.path, p.status, p.count, p.openCount, p.waivedCount, p.noiseCount])).toEqual([
      ['/balance', 'open', 2, 2, 0, 0],
      ['/currency', 'open', 1, 1, 0, 0],
      ['/requestId', 'open', 1, 1, 0, 0],
      ['@status', 'open', 1, 1, 0, 0],
      ['/card/number', 'waived', 1, 0, 1, 0],
    ]);
    expect(b.paths.find((p) => p.path === '/card/number')!.waiver).toEqual({
      id: 'w1',
      reason: 'V2 masks card numbers on purpose',
      author: 'qa@example',
      expiresAt: '2026-12-31T00:00:00.000Z',
    });
    expect(b.counts).toEqual({ openPaths: 4, waivedPaths: 1, noisyPaths: 0, volatilePaths: 1 });
    const t = m.routes.find((r) => r.name === 'transactions')!;
    const noisy = t.paths.find((p) => p.path === '/generatedAt')!;
    expect(noisy).toMatchObject({ status: 'noise', count: 4, noiseCount: 4, replica: { pairs: 2, legacyVsReplica: 2, legacyVsV2: 2 } });
    expect(m.totals).toMatchObject({ openPaths: 6, waivedPaths: 1, noisyPaths: 1, volatilePaths: 1 });
  });

  it('judges each route against its threshold: the default, the plan, or --fail-on-mismatch-rate', () => {
    const m = build();
    expect(m.routes.map((r) => [r.name, r.verdict, r.threshold, r.thresholdSource])).toEqual([
      ['balance', 'failing', DEFAULT_MISMATCH_THRESHOLD, 'default'],
      ['transactions', 'failing', DEFAULT_MISMATCH_THRESHOLD, 'default'],
    ]);
    const lenient = build({ threshold: 0.5 });
    expect(lenient.routes.map((r) => [r.verdict, r.verdictReason])).toEqual([
      ['needs-review', 'open differences under the threshold'],
      ['needs-review', 'open differences under the threshold'],
    ]);
    expect(lenient.gate).toEqual({ maxMismatchRate: 0.5, failOnOpenFindings: false, failed: false, failures: [] });
    const plan = build({
      history: [
        {
          version: 1,
          at: '2026-11-23T10:00:00.000Z',
          by: 'plan',
          action: 'check',
          changes: [],
          data: { verdict: 'pass', checks: [{ route: 'balance', check: 'mismatchRate', status: 'fail', value: 0.33, limit: 0.4, rule: 'max', reason: 'x' }] },
        },
      ],
    });
    expect(plan.routes[0]).toMatchObject({ threshold: 0.4, verdict: 'needs-review' });
    expect(plan.routes[0]!.thresholdSource).toMatch(/^plan threshold, check at 2026-11-23 10:00:00Z$/);
  });

  it('calls a route clean only with pairs and no open difference; with traffic and no pairs it needs review', () => {
    const clean = structuredClone(AGGREGATE);
    const r = clean.routes[0]!;
    Object.assign(r, { mismatch: 0, match: 11, mismatchRate: 0, paths: r.paths.filter((p) => p.count === 0) });
    clean.routes[1]!.pairs = 0;
    Object.assign(clean.routes[1]!, { match: 0, mismatch: 0, error: 0, mismatchRate: 0, paths: [] });
    const m = build({ aggregate: clean });
    expect(m.routes.map((x) => [x.name, x.verdict, x.verdictReason])).toEqual([
      ['balance', 'clean', 'no open differences'],
      ['transactions', 'no-traffic', 'no traffic reached this route in this range'],
    ]);
    expect(m.routes[1]!.badges).toEqual(['no traffic']);
    // a route without traffic does not hold the verdict back
    expect(m.verdict).toBe('clean');
    expect(m.decision.answer).toBe('go');
    // a route that served clients but has no verified pairs: review, unless its method is never mirrored
    const served = build({ aggregate: clean, stats: statsWith('transactions', 40) });
    expect(served.routes[1]).toMatchObject({ verdict: 'needs-review', verdictReason: 'traffic, but no verified pairs in this range' });
    const unsafe = build({ aggregate: clean, stats: statsWith('transactions', 40), routeInfo: (r) => (r === 'transactions' ? { method: 'POST', mirrorUnsafe: false } : undefined) });
    expect(unsafe.routes[1]).toMatchObject({ verdict: 'not-mirrored', badges: ['not mirrored: unsafe method'] });
    const optedIn = build({ aggregate: clean, stats: statsWith('transactions', 40), routeInfo: () => ({ method: 'POST', mirrorUnsafe: true }) });
    expect(optedIn.routes[1]!.verdict).toBe('needs-review');
    expect(optedIn.verdict).toBe('needs-review');
  });

  it('caps paths per route and examples, counting what it left out', () => {
    const m = build({ limits: { pathsPerRoute: 2, examplesPerPath: 1, examplesTotal: 2 } });
    const b = m.routes.find((r) => r.name === 'balance')!;
    expect(b.paths.map((p) => p.path)).toEqual(['/balance', '/currency']);
    expect(b.otherPaths).toEqual({ paths: 3, count: 3 });
    expect(m.limits.pathsOmitted).toBe(4); // 3 balance + 1 transactions
    expect(m.routes.flatMap((r) => r.paths.flatMap((p) => p.examples)).length).toBe(2);
    expect(m.limits.examplesOmitted).toBeGreaterThan(0);
  });

  it('shows an example pair side by side: redacted, numbers as sent, differing lines marked', () => {
    const agg = structuredClone(AGGREGATE);
    agg.routes[0]!.paths[0]!.examples[0]!.path = `/accounts/acc-1/balance?api_key=${PLANTED_SECRET}`;
    const m = build({ aggregate: agg });
    const ex = m.routes[0]!.paths[0]!.examples.find((e) => e.pairId === 'b8')!;
    expect(ex.bodies).toBe(true);
    expect(ex.url).toBe('/accounts/acc-1/balance?api_key=[REDACTED]');
    const v2Lines = ex.v2.body.split('\n');
    expect(v2Lines).toContain('  "available": 100.50,'); // not 100.5: the text V2 sent
    expect(ex.v2.highlight.map((i) => v2Lines[i])).toEqual(['  "balance": "100.49",']);
    expect(ex.legacy.highlight.map((i) => ex.legacy.body.split('\n')[i])).toEqual(['  "balance": "100.50",']);
    expect(JSON.stringify(m)).not.toContain(PLANTED_SECRET);
    expect(ex.legacy.body).toContain('"number": "[REDACTED]"');
    // a missing element is marked on the legacy side only
    const missing = m.routes[1]!.paths.find((p) => p.path === '/transactions/*')!.examples[0]!;
    expect(missing.legacy.highlight.length).toBe(5);
    expect(missing.v2.highlight).toEqual([]);
  });

  it('cuts a long body to an excerpt around the differing field', () => {
    const items = Array.from({ length: 400 }, (_, i) => ({ id: `tx-${i}`, amount: `${i}.00` }));
    const legacyBody = JSON.stringify({ transactions: items });
    const changed = items.map((t, i) => (i === 250 ? { ...t, amount: '250.01' } : t));
    const pair = { ...EXAMPLE_PAIRS[1]!, id: 'long', legacy: { ...EXAMPLE_PAIRS[1]!.legacy, body: legacyBody }, v2: { ...EXAMPLE_PAIRS[1]!.v2, body: JSON.stringify({ transactions: changed }) } };
    const agg = structuredClone(AGGREGATE);
    agg.routes[1]!.paths[1]!.examples = [{ pairId: 'long', at: pair.at, method: 'GET', path: pair.path, pointer: '/transactions/250/amount', kind: 'value', legacy: '250.00', v2: '250.01' }];
    const m = build({ aggregate: agg, pairs: new Map([['long', pair]]) });
    const side = m.routes[1]!.paths.find((p) => p.path === '/transactions/*/amount')!.examples[0]!.v2;
    const lines = side.body.split('\n');
    expect(side.bodyTruncated).toBe(true);
    expect(lines.length).toBeLessThan(20);
    expect(side.highlight.map((i) => lines[i])).toEqual(['      "amount": "250.01"']);
    // 1,604 lines: `{`, `"transactions": [`, 4 per item, `]`, `}`; item 250's amount is line 1,004
    expect(side.gaps.map((i) => lines[i])).toEqual(['… 999 lines …', '… 596 lines …']);
  });

  it('pretty-prints JSON losslessly: number text, big integers and key order kept', () => {
    const text = '{"b":10.10,"a":[12345678901234567890,1e-7,-0.0],"s":"é\\n\\u0000","o":{}}';
    const tree = parseLossless(text)!;
    expect(prettyLines(tree).map((l) => [l.text, l.pointer])).toEqual([
      ['{', ''],
      ['  "b": 10.10,', '/b'],
      ['  "a": [', '/a'],
      ['    12345678901234567890,', '/a/0'],
      ['    1e-7,', '/a/1'],
      ['    -0.0', '/a/2'],
      ['  ],', '/a'],
      ['  "s": "é\\n\\u0000",', '/s'],
      ['  "o": {}', '/o'],
      ['}', ''],
    ]);
    expect(parseLossless('{"a":1,}')).toBeUndefined();
    expect(parseLossless('[1] x')).toBeUndefined();
  });
});

describe('report text helpers', () => {
  it('escape Markdown so input cannot add HTML, links or table cells', () => {
    expect(escMd('<img src=x> | [a](http://x) *b*')).toBe('\\<img src=x> \\| \\[a\\](http://x) \\*b\\*');
    // no HTML entities and no needless escapes: `>` and parentheses read as they are
    expect(escMd('latencyP95Ms 1360 > 500 (2 failing intervals)')).toBe('latencyP95Ms 1360 > 500 (2 failing intervals)');
    expect(escMd('a & b, &amp;')).toBe('a & b, \\&amp;');
    expect(escMd('snake_case _em_')).toBe('snake_case \\_em\\_');
    expect(mdCode('a`b|c')).toBe('``a`b\\|c``');
    expect(mdCode('`x')).toBe('`` `x ``');
  });

  it('read --since and rates', () => {
    const now = Date.parse('2026-11-23T12:00:00.000Z');
    expect(parseSince('90m', now)).toBe('2026-11-23T10:30:00.000Z');
    expect(parseSince('2026-11-23T10:00:00+01:00', now)).toBe('2026-11-23T09:00:00.000Z');
    expect(() => parseSince('1 hour', now)).toThrow(/--since/);
    expect(parseRate('0.1%', 'x')).toBe(0.001);
    expect(parseRate('0.002', 'x')).toBe(0.002);
    expect(() => parseRate('-1', 'x')).toThrow(/x: must be a rate/);
  });
});
