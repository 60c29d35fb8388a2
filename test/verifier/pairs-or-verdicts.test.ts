/**
 * `verify --pairs` takes recorded pairs (both answers, diffed here) or the verdicts the proxy's
 * verifier already wrote (`verifier.diffDir`'s verdicts.jsonl): the same pairs give the same
 * aggregate either way, and a broken verdict line is refused naming the file, line and field.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { verifyPairsFile } from '../../verifier/offline.js';
import type { Verdict } from '../../verifier/types.js';
import { ROOT, runCutover, tempDir } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'reports', 'fixtures');

describe('verify --pairs with the proxy\'s verdict files', () => {
  it('aggregates verdict lines like the pairs they came from', async () => {
    const config = loadConfig(join(FIX, 'cutover.yaml'));
    const written: Verdict[] = [];
    const fromPairs = await verifyPairsFile(join(FIX, 'pairs.jsonl'), { config, source: 'test', onVerdict: (v) => written.push(v) });
    const file = join(tempDir('cutover-verdicts-'), 'verdicts.jsonl');
    writeFileSync(file, written.map((v) => JSON.stringify(v)).join('\n') + '\n');
    const fromVerdicts = await verifyPairsFile(file, { config, source: 'test' });
    const a = fromPairs.book.snapshot();
    const b = fromVerdicts.book.snapshot();
    expect(b.totals).toEqual(a.totals);
    expect(b.routes.map((r) => [r.route, r.pairs, r.mismatch, r.paths.map((p) => [p.path, p.count])])).toEqual(a.routes.map((r) => [r.route, r.pairs, r.mismatch, r.paths.map((p) => [p.path, p.count])]));
    expect(a.totals.pairs).toBeGreaterThan(0);

    const cli = await runCutover(['verify', '--pairs', file, '--config', join(FIX, 'cutover.yaml')]);
    expect([0, 1], cli.stderr).toContain(cli.code);
    expect(cli.stdout).toMatch(new RegExp(`verified ${written.length} pairs`));
  });

  it('refuses a broken verdict line naming the file, line and field (exit 2)', async () => {
    const file = join(tempDir('cutover-verdicts-bad-'), 'verdicts.jsonl');
    writeFileSync(file, JSON.stringify({ pairId: 'p1', route: 'balance', at: '2026-11-23T10:00:00Z', result: 'maybe', findings: [], status: { legacy: 200, v2: 200 }, latencyMs: { legacy: 1, v2: 1 } }) + '\n');
    const r = await runCutover(['verify', '--pairs', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/verdicts\.jsonl:1 result: must be one of match/);
  });
});
