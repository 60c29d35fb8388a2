/**
 * Known input, known numbers: the fixed pairs file and history under fixtures/ go through
 * `cutover report --format json` (the real CLI, the real verifier) and every figure below was
 * counted by hand from the fixture (see the comments).
 *
 * balance (12 pairs): b1-b7 equal after the rules (decimal forms, ignored /asOf); b8, b9
 * /balance 100.50 vs 100.49; b10 /currency EUR vs USD; b11 200 vs 503; b12 /card/number differs
 * (redacted). transactions (9 pairs): t1-t5 equal (keyed array order, decimal amounts); t6, t7
 * miss tx-3; t8 tx-2's amount 25.00 vs 25.01; t9 V2 timed out (not comparable).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportModel } from '../../reports/model.js';
import { ROOT, runCutover, stopAll, tempDir } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'reports', 'fixtures');
const BASE = ['report', '--pairs', join(FIX, 'pairs.jsonl'), '--history', join(FIX, 'history.jsonl'), '--config', join(FIX, 'cutover.yaml'), '--format', 'json'];

let dir: string;
let full: ReportModel;
let since: ReportModel;

async function reportJson(args: string[], out: string): Promise<ReportModel> {
  const r = await runCutover([...BASE, ...args, '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(out);
  return JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
}

beforeAll(async () => {
  dir = tempDir('cutover-report-known-');
  [full, since] = await Promise.all([
    reportJson([], join(dir, 'full.json')),
    reportJson(['--since', '2026-11-23T10:25:00Z'], join(dir, 'since.json')),
  ]);
}, 60_000);

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const route = (m: ReportModel, name: string) => m.routes.find((r) => r.name === name)!;

describe('report JSON over the fixed pairs file and history', () => {
  it('carries the schema version and the totals', () => {
    expect(full.schemaVersion).toBe(2);
    expect(full.totals).toEqual({
      routes: 2,
      pairs: 21,
      mismatching: 8, // 5 balance + 3 transactions
      mismatchRate: 8 / 20, // t9 is not comparable
      openPaths: 6,
      waivedPaths: 0,
      noisyPaths: 0,
      volatilePaths: 0,
      routesFailing: 2,
      routesNeedingReview: 0,
    });
    expect(full.verdict).toBe('failing');
    expect(full.range).toEqual({ from: '2026-11-23T10:00:00.000Z', to: '2026-11-23T11:30:00.000Z', since: null });
  });

  it('counts the balance route by hand', () => {
    const b = route(full, 'balance');
    expect({ pairs: b.pairs, matching: b.matching, mismatching: b.mismatching, errors: b.errors, waivedOnly: b.waivedOnly, noiseOnly: b.noiseOnly }).toEqual({
      pairs: 12,
      matching: 7,
      mismatching: 5,
      errors: 0,
      waivedOnly: 0,
      noiseOnly: 0,
    });
    expect(b.mismatchRate).toBeCloseTo(5 / 12, 12);
    // the plan's mismatchRate limit from the history's checks
    expect(b.threshold).toBe(0.002);
    expect(b.thresholdSource).toMatch(/^plan threshold/);
    expect(b.verdict).toBe('failing');
    expect(b.traffic).toEqual({ servedLegacy: 12, servedV2: 0, mirroredV2: 12, replica: 0 });
    expect(b.paths.map((p) => [p.path, p.kind, p.status, p.count, p.rate])).toEqual([
      ['/balance', 'value', 'open', 2, 2 / 12],
      ['/card/number', 'value', 'open', 1, 1 / 12],
      ['/currency', 'value', 'open', 1, 1 / 12],
      ['@status', 'value', 'open', 1, 1 / 12],
    ]);
    expect(b.statusMatrix).toEqual({ legacy: [200], v2: [200, 503], counts: [[11, 1]] });
    const balanceEx = b.paths[0]!.examples.map((e) => e.pairId).sort();
    expect(balanceEx).toEqual(['b8', 'b9']);
    expect(b.paths[0]!.examples[0]!.fields[0]).toEqual({ pointer: '/balance', kind: 'value', legacy: '"100.50"', v2: '"100.49"' });
    expect(b.paths[0]!.examples[0]!.traceId).toMatch(/^trace-b[89]$/);
  });

  it('gives the balance latencies: 12 answers each, every paired delta positive', () => {
    const l = route(full, 'balance').latency;
    expect(l.legacy).toMatchObject({ count: 12, p99Ms: 40, maxMs: 40 });
    expect(l.v2).toMatchObject({ count: 12, p99Ms: 55, maxMs: 55 });
    // V2 - legacy per pair: 2,1,1,3,2,2,2,3,4,4,5,15
    expect(l.delta).toMatchObject({ count: 12, minMs: 1, maxMs: 15, slowerShare: 1 });
    expect(l.delta!.meanMs).toBeCloseTo(44 / 12, 2);
    // the median delta is 2 ms; the histogram bucket holding it ends at 2.015 ms
    expect(l.delta!.p50Ms).toBeGreaterThanOrEqual(2);
    expect(l.delta!.p50Ms).toBeLessThan(2.1);
    expect(l.delta!.bins.reduce((n, b) => n + b.count, 0)).toBe(12);
    // 14 ms is the median; histogram buckets are 256 µs wide there
    expect(l.legacy!.p50Ms).toBeGreaterThanOrEqual(14);
    expect(l.legacy!.p50Ms).toBeLessThan(14.3);
  });

  it('counts the transactions route by hand, the timed-out pair apart', () => {
    const t = route(full, 'transactions');
    expect({ pairs: t.pairs, matching: t.matching, mismatching: t.mismatching, errors: t.errors }).toEqual({ pairs: 9, matching: 5, mismatching: 3, errors: 1 });
    expect(t.mismatchRate).toBe(3 / 8);
    expect(t.paths.map((p) => [p.path, p.kind, p.count])).toEqual([
      ['/transactions/*', 'missing', 2],
      ['/transactions/*/amount', 'value', 1],
    ]);
    expect(t.statusMatrix).toEqual({ legacy: [200], v2: [0, 200], counts: [[1, 8]] });
    // keyed array: legacy's tx-2 is element 1, V2's is element 0; each side marks its own line
    const ex = t.paths[1]!.examples[0]!;
    const marked = (side: typeof ex.legacy) => side.highlight.map((i) => side.body.split('\n')[i]);
    expect(ex.fields).toEqual([{ pointer: '/transactions/1/amount', kind: 'value', legacy: '"25.00"', v2: '"25.01"' }]);
    expect([marked(ex.legacy), marked(ex.v2)]).toEqual([['      "amount": "25.00",'], ['      "amount": "25.01",']]);
    expect(t.latency.legacy!.count).toBe(9);
    expect(t.latency.v2!.count).toBe(8);
    // V2 - legacy per pair: -5,-4,-3,-5,-5,-4,-4,-5
    expect(t.latency.delta).toMatchObject({ count: 8, minMs: -5, maxMs: -3, slowerShare: 0 });
    expect(t.latency.delta!.meanMs).toBeCloseTo(-35 / 8, 2);
  });

  it('builds the rollout timeline from the history', () => {
    const tl = full.timeline;
    expect(tl.events.map((e) => e.kind)).toEqual([
      'other',
      'check',
      'plan-step',
      'check',
      'weight',
      'check',
      'weight',
      'pause',
      'resume',
      'check',
      'abort',
      'resume',
      'promote',
    ]);
    const series = Object.fromEntries(tl.series.map((s) => [s.route, s.points.map((p) => [p.at.slice(11, 19), p.share])]));
    expect(series).toEqual({
      balance: [
        ['10:00:00', 0],
        ['10:11:00', 1],
        ['10:16:30', 5],
        ['10:21:30', 25],
        ['10:45:05', 0],
        ['11:00:00', 25],
        ['11:30:00', 100],
      ],
      transactions: [
        ['10:00:00', 0],
        ['10:21:30', 1],
        ['10:45:05', 0],
      ],
    });
    const abort = tl.events.find((e) => e.kind === 'abort')!;
    expect(abort.reason).toBe('mismatchRate 0.004 > 0.002 on route transactions');
    expect(abort.routes).toEqual(['balance', 'transactions']);
    const failed = tl.events.find((e) => e.kind === 'check' && e.result === 'fail')!;
    expect(failed.numbers).toMatchObject({ 'transactions mismatchRate': 0.004, 'transactions mismatchRate limit': 0.002 });
    expect(full.limits).toMatchObject({ pathsOmitted: 0, examplesOmitted: 0, bodiesOmitted: 0, eventsOmitted: 0 });
  });

  it('--since keeps only later pairs and events, starting the series from the state then', () => {
    // t5-t9 are at or after 10:25: t5 equal, t6 and t7 missing tx-3, t8 amount, t9 timed out
    expect(since.routes.map((r) => r.name)).toEqual(['transactions']);
    const t = route(since, 'transactions');
    expect({ pairs: t.pairs, matching: t.matching, mismatching: t.mismatching, errors: t.errors, mismatchRate: t.mismatchRate }).toEqual({
      pairs: 5,
      matching: 1,
      mismatching: 3,
      errors: 1,
      mismatchRate: 3 / 4,
    });
    expect(since.timeline.events.map((e) => e.action)).toEqual(['pause', 'resume', 'check', 'abort', 'resume', 'promote']);
    const first = Object.fromEntries(since.timeline.series.map((s) => [s.route, s.points[0]]));
    expect(first.balance).toMatchObject({ at: '2026-11-23T10:25:00.000Z', share: 25, mode: 'canary' });
    expect(first.transactions).toMatchObject({ at: '2026-11-23T10:25:00.000Z', share: 1, mode: 'canary' });
    expect(since.range.since).toBe('2026-11-23T10:25:00.000Z');
  });
});
