/**
 * `cutover demo` as a user runs it: the CLI as a child process (`--fast --json`), end to end.
 * Checks the summary and the JSON report (parsed), that nothing it started is left (child
 * processes by PID, ports by binding them), and that SIGINT mid-demo stops everything.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCutover, spawnCutover, stopAll, tempDir, type Spawned } from '../helpers/processes.js';
import type { DemoSummary } from '../../rollout-cli/demo/run-demo.js';
import type { ReportModel } from '../../reports/model.js';

afterAll(async () => {
  await stopAll();
});

/** PIDs of the process's children (every thread's), from /proc. */
function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // the process is gone
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Descendants may take a moment to notice their parent is gone (tsx's esbuild helper when run from source). */
async function noneAlive(pids: Iterable<number>, withinMs = 3000): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = [...pids].filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => res(true)));
  });
}

/** Samples the demo's descendants every 200 ms while it runs. */
function watchDescendants(p: Spawned): { seen: Set<number>; stop(): void } {
  const seen = new Set<number>();
  const t = setInterval(() => {
    const queue = [p.pid];
    while (queue.length > 0) {
      for (const c of childPids(queue.pop()!)) {
        if (!seen.has(c)) queue.push(c);
        seen.add(c);
      }
    }
  }, 200);
  return { seen, stop: () => clearInterval(t) };
}

function summaryOf(p: Spawned): DemoSummary {
  const line = p
    .output()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{"schemaVersion"'));
  expect(line, p.output()).toBeDefined();
  return JSON.parse(line!) as DemoSummary;
}

describe('cutover demo', () => {
  it('--fast: three V2 services reach 100 % one after the other, the bad members-v2 release is found by the mirror and rolled back, a report is written, nothing is left running', async () => {
    const out = tempDir('cutover-demo-test-');
    const p = spawnCutover(['demo', '--fast', '--json', '--free-ports', '--out', out]);
    const watch = watchDescendants(p);
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 200_000))]);
    watch.stop();
    expect(code, p.output()).toBe(0);
    const s = summaryOf(p);
    expect(s.ok).toBe(true);

    // the topology: legacy and four V2 services by concern, each on its own port
    expect(Object.keys(s.ports!).sort()).toEqual(['admin', 'data', 'legacy', 'members-v2', 'statements-v2', 'transactions-v2', 'wallets-v2']);
    expect(new Set(Object.values(s.ports!)).size).toBe(7);

    // scenario 1: completed service by service; wallets-v2's route still mirrored
    expect(s.rollout?.completed).toBe(true);
    expect(s.rollout?.exitCode).toBe(0);
    expect(s.rollout?.steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const r of ['balance', 'transactions', 'statement', 'post-transaction']) expect(s.rollout?.routes[r]).toEqual({ mode: 'canary', weight: 100 });
    expect(s.rollout?.routes.wallet?.mode).toBe('mirror');
    // statements-v2 was at 100 % while members-v2's balance was still mirrored
    expect(p.output()).toMatch(/step 3 of 8: weight 100 on statement -> balance mirror, transactions mirror, statement 100%/);

    // scenario 2: only members-v2 was released again; rolled back on a canary step of its route,
    // the failing checks are all on members-v2's routes
    const b = s.badRelease!;
    expect(b.service).toBe('members-v2');
    expect(b.failingServices).toEqual(['members-v2']);
    expect(b.rolledBack).toBe(true);
    expect(b.exitCode).toBe(1);
    expect(b.rollback!.reason).toMatch(/latencyP95Ms [\d.]+ > 500 on route balance at weight 10/);
    expect(b.rollback!.failing.length).toBeGreaterThan(0);
    expect(b.rollback!.failing.every((c) => c.check === 'latencyP95Ms' && c.rule === 'max' && c.limit === 500 && c.value! > 500 && c.route === 'balance')).toBe(true);
    expect(b.rollback!.applied).toBe(true);
    expect(p.output()).toContain("the failing checks are all on members-v2's routes: the release to roll back is members-v2");
    expect(p.output()).toMatch(/failing threshold: latencyP95Ms max 500 ms on route balance \(members-v2\)/);
    // QA's view: the wrong balance is the top finding, on members-v2's route, with an example one minor unit apart
    expect(b.topFinding?.route).toBe('balance');
    expect(['/balance', '/available']).toContain(b.topFinding?.path);
    expect(b.topFinding?.example?.url).toMatch(/^\/accounts\/A-\d{6}\/balance$/);
    expect(p.output()).toMatch(/top finding: route balance \(members-v2\), path/);

    // the report: both files exist; the JSON one names the same top finding
    expect(existsSync(s.report!.html)).toBe(true);
    expect(readFileSync(s.report!.html, 'utf8')).toMatch(/^<!doctype html>/i);
    const model = JSON.parse(readFileSync(s.report!.json, 'utf8')) as ReportModel;
    const paths = model.routes.flatMap((r) => r.paths.map((f) => ({ route: r.name, path: f.path, count: f.openCount })));
    const top = paths.sort((x, y) => y.count - x.count)[0]!;
    expect(top.route).toBe('balance');
    expect(['/balance', '/available']).toContain(top.path);
    expect(model.timeline.events.some((e) => /rollback|abort/i.test(JSON.stringify(e)))).toBe(true);
    expect(s.report!.html.startsWith(out)).toBe(true);

    // nothing left: no descendant alive, every port free again
    expect(await noneAlive(watch.seen)).toEqual([]);
    for (const port of Object.values(s.ports!)) expect(await portFree(port), `port ${port}`).toBe(true);
  }, 240_000);

  it('SIGTERM during the warm-up stops everything it started: exit 1, ports free', async () => {
    const out = tempDir('cutover-demo-term-');
    const p = spawnCutover(['demo', '--fast', '--json', '--free-ports', '--out', out]);
    await p.waitForOutput(/warming up/, 30_000);
    p.child.kill('SIGTERM');
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 45_000))]);
    expect(code, p.output()).toBe(1);
    const s = summaryOf(p);
    expect(s.interrupted).toBe(true);
    expect(s.rollout).toBeNull();
    expect(s.report).toBeNull();
    for (const port of Object.values(s.ports!)) expect(await portFree(port), `port ${port}`).toBe(true);
  }, 120_000);

  it('bad options exit 2 naming the option, before anything starts', async () => {
    const d = await runCutover(['demo', '--state', 'postgres://x']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--state');
    const b = await runCutover(['bench', '--only', 'proxy,warp']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--only');
  }, 30_000);

  it('SIGINT mid-demo stops everything it started: exit 1, ports free, no child left', async () => {
    const out = tempDir('cutover-demo-int-');
    const p = spawnCutover(['demo', '--fast', '--json', '--free-ports', '--out', out]);
    const watch = watchDescendants(p);
    const m = await p.waitForOutput(/proxy\s+http:\/\/127\.0\.0\.1:(\d+) \(data\)\s+http:\/\/127\.0\.0\.1:(\d+) \(admin\)/, 30_000);
    const services = [...p.output().matchAll(/^  (?:legacy|\S+-v2)\s+http:\/\/127\.0\.0\.1:(\d+)/gm)].map((x) => Number(x[1]));
    expect(services).toHaveLength(5);
    await p.waitForOutput(/step 2 of 8/, 90_000);
    p.child.kill('SIGINT');
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 45_000))]);
    watch.stop();
    expect(code, p.output()).toBe(1);
    const s = summaryOf(p);
    expect(s.interrupted).toBe(true);
    expect(s.ok).toBe(false);
    expect(p.output()).toMatch(/interrupted: stopping/);
    const ports = [Number(m[1]), Number(m[2]), ...services];
    expect(Object.values(s.ports!).sort()).toEqual([...ports].sort());
    for (const port of ports) expect(await portFree(port), `port ${port}`).toBe(true);
    expect(await noneAlive(watch.seen)).toEqual([]);
    expect(alive(p.pid)).toBe(false);
  }, 180_000);
});
