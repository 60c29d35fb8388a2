import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.js';

const VERBS = ['proxy', 'services', 'status', 'set-weight', 'mode', 'pause', 'resume', 'promote', 'abort', 'history', 'run', 'report', 'verify', 'demo', 'bench'];

describe('cutover --help (built binary)', () => {
  it('lists every verb of the design and exits 0', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'cutover.js'), '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const v of VERBS) expect(r.stdout).toMatch(new RegExp(`^  ${v}\\b`, 'm'));
  });

  // The fastest of 5 runs: other test files load both cores meanwhile, and what we guard is
  // the start-up cost of the code (heavy imports creeping in), not the scheduler.
  it('answers in under 300 ms (fastest of 5 runs)', () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      spawnSync(process.execPath, [join(ROOT, 'bin', 'cutover.js'), '--help'], { encoding: 'utf8' });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    expect(times[0]).toBeLessThan(300);
  });

  it('exits 2 on an unknown verb and names it', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'cutover.js'), 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});
