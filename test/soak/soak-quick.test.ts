/**
 * The soak suite's quick variant as a test: the bad-input sweep and faults 1, 3-7 and 9 at quick
 * durations on real processes (3 proxy replicas, Redis, legacy, V2, a noise replica), then every
 * invariant read back from the written summary.json. Fault 2 (5xx, then garbage with a 10 MB
 * body) is left to `npm run soak -- --quick` to keep this file near a minute on two cores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir } from '../helpers/processes.js';
import { runSoak, writeSummary, type SoakSummary } from '../../soak/index.js';

afterAll(async () => {
  await stopAll();
});

describe('soak --quick (faults 1, 3-7, 9 and the bad-input sweep)', () => {
  it('keeps every invariant and writes a summary that says so', { timeout: 240_000 }, async () => {
    const out = tempDir('cutover-soak-test-');
    const run = await runSoak({ quick: true, faults: [1, 3, 4, 5, 6, 7, 9] });
    writeSummary(out, run);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as SoakSummary;
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('# Soak summary (quick)');

    // Speed targets (state converged within 2 s) are the soak's own verdict (`npm run soak`);
    // here every other invariant must hold, and convergence must happen at all.
    const broken = s.invariants.filter((c) => !c.ok && !c.timed).map((c) => `${c.name}: ${c.detail}`);
    expect(broken).toEqual([]);
    expect(s.invariants.some((c) => c.timed)).toBe(true);
    expect(s.faults.map((f) => f.id)).toEqual([1, 3, 4, 5, 6, 7, 9]);

    expect(s.postsToV2FromMirror).toBe(0);
    expect(s.postsAppliedTwice).toBe(0);
    for (const f of s.faults) {
      expect(f.converged, `fault ${f.id} converged`).toBe(true);
      expect(new Set(f.states.map((v) => `${v.version}/${v.epoch}`)).size).toBe(1);
      expect(f.client.all.sent, `fault ${f.id} had load`).toBeGreaterThan(50);
      if ([1, 3, 7].includes(f.id)) expect(f.client.mirror.failed, `fault ${f.id} mirror failures`).toBe(0);
    }
    const redis = s.faults.find((f) => f.id === 4)!;
    expect(redis.client.all.failed).toBe(0);
    expect(redis.convergeMs).not.toBeNull();
    const refused = s.faults.find((f) => f.id === 3)!;
    // Only a reset on a connection V2 closed while stopping may reach a canary client; never a refused connect.
    expect(Object.keys(refused.client.canary.failedBy).filter((k) => !k.includes('CUTOVER_ERR_UPSTREAM_RESET'))).toEqual([]);
    expect(refused.shadow.errors + refused.shadow.dropped + refused.shadow.timeouts).toBeGreaterThan(0);
    const abort = s.faults.find((f) => f.id === 6)!;
    expect(abort.extra.abortOk).toBe(true);
    expect(abort.extra.v2AfterAbort).toBe(0);
    const sick = s.faults.find((f) => f.id === 9)!;
    expect(sick.extra.abortOk).toBe(true);
    expect(sick.extra.v2AfterAbort).toBe(0);
    expect(sick.extra.abortInStore).toBe(true);

    expect(s.rss.length).toBeGreaterThanOrEqual(7);
    for (const r of s.rss) expect(r.peakMb ?? r.endMb!, r.label).toBeLessThanOrEqual(s.limits.rssPeakMb);

    expect(s.badInput.length).toBeGreaterThan(30);
    for (const c of s.badInput) {
      expect(c.ok, `${c.group}/${c.name}: ${c.status} ${c.message}`).toBe(true);
      expect(c.versionAfter).toBe(c.versionBefore);
      expect(c.message.length).toBeGreaterThan(0);
    }
    const groups = new Set(s.badInput.map((c) => c.group));
    expect([...groups].sort()).toEqual(['admin-api', 'config', 'headers', 'plan', 'smuggling', 'traversal']);
  });
});
