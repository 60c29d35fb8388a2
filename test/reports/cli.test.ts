/**
 * `cutover report` as a command: where it writes, what it prints, the CI gates (exit 1) and
 * bad input (exit 2, the option named, nothing written). Most cases run the CLI's main() in
 * process; the default output folder is checked through the built binary in a real process.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ReportModel } from '../../reports/model.js';
import { main } from '../../rollout-cli/main.js';
import { openStateStore } from '../../shared/state/index.js';
import type { Waiver } from '../../shared/state/types.js';
import { ROOT, freePort, spawnBuiltCutover, stopAll, tempDir } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'reports', 'fixtures');
const PAIRS = join(FIX, 'pairs.jsonl');
const HISTORY = join(FIX, 'history.jsonl');
const CONFIG = join(FIX, 'cutover.yaml');
let dir: string;

/** Runs `cutover ARGS` in this process; returns the exit code and what it printed. */
async function cutover(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'cutover', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const known = (extra: string[]) => ['report', '--pairs', PAIRS, '--history', HISTORY, '--config', CONFIG, ...extra];

beforeAll(() => {
  dir = tempDir('cutover-report-cli-');
});

afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('cutover report: output', () => {
  it('writes to reports/out/ under the working directory by default and prints the path', async () => {
    const cwd = tempDir('cutover-report-cwd-');
    try {
      // the built binary (npm test builds first), run from a folder outside the repository
      const p = spawnBuiltCutover(known(['--format', 'md']), { cwd });
      const code = await p.exited;
      expect(p.output()).toMatch(/^\/.*\.md\n$/);
      expect(code).toBe(0);
      const printed = p.output().trim();
      expect(printed).toMatch(new RegExp(`^${cwd}/reports/out/report-[0-9T-]+Z\\.md$`));
      expect(readdirSync(join(cwd, 'reports', 'out'))).toHaveLength(1);
      const md = readFileSync(printed, 'utf8');
      expect(md).toContain('### cutover report: failing');
      expect(md).toContain('| `balance` | failing | 12 | 41.7% | 0.200% |');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('writes inside --out when it names a folder, with the extension of the format', async () => {
    const r = await cutover(known(['--format', 'json', '--out', `${dir}/`]));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^${dir}/report-.*\\.json$`));
    expect(JSON.parse(readFileSync(r.stdout.trim(), 'utf8')).schemaVersion).toBe(2);
  });
});

describe('cutover report: gates', () => {
  it('passes --fail-on-mismatch-rate when every route is under it', async () => {
    const out = join(dir, 'gate-pass.json');
    const r = await cutover(known(['--format', 'json', '--out', out, '--fail-on-mismatch-rate', '0.5']));
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
    expect(m.gate).toEqual({ maxMismatchRate: 0.5, failOnOpenFindings: false, failed: false, failures: [] });
    expect(m.routes.every((x) => x.threshold === 0.5 && x.thresholdSource === '--fail-on-mismatch-rate')).toBe(true);
  });

  it('exits 1 when a route is over --fail-on-mismatch-rate, names it, and still writes the report', async () => {
    const out = join(dir, 'gate-fail.json');
    const r = await cutover(known(['--format', 'json', '--out', out, '--fail-on-mismatch-rate', '40%']));
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe(out);
    expect(r.stderr).toContain('gate failed: balance: mismatch rate 41.7% > 40.0% (5 of 12 compared pairs)');
    expect(r.stderr).not.toContain('transactions'); // 37.5 % is under the limit
    const m = JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
    expect(m.gate.failed).toBe(true);
    expect(m.gate.failures).toHaveLength(1);
  });

  it('exits 1 on --fail-on-open-findings while open findings remain', async () => {
    const r = await cutover(known(['--format', 'md', '--out', join(dir, 'open.md'), '--fail-on-open-findings']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/gate failed: balance: 4 open finding path\(s\): \/balance \(value, 2\)/);
    expect(r.stderr).toMatch(/gate failed: transactions: 2 open finding path\(s\)/);
    expect(readFileSync(join(dir, 'open.md'), 'utf8')).toContain('**CI gate failed**');
  });

  it('passes --fail-on-open-findings once waivers in the state store accept every difference', async () => {
    const stateUrl = `file://${join(dir, 'state', 'state.json')}`;
    const store = openStateStore(stateUrl);
    const waiver = (route: string, path: string, kind: string): Waiver => ({
      id: `w-${route}-${path}`,
      route,
      path,
      kind,
      reason: `intended: ${path}`,
      author: 'qa@example',
      createdAt: '2026-11-22T00:00:00.000Z',
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    await store.compareAndSet(
      0,
      {
        schemaVersion: 1,
        routes: { balance: { mode: 'mirror', weight: 0 }, transactions: { mode: 'mirror', weight: 0 } },
        paused: false,
        aborted: false,
        updatedBy: 'test',
        updatedAt: '2026-11-23T09:00:00.000Z',
        waivers: [
          waiver('balance', '/balance', 'value'),
          waiver('balance', '/currency', 'value'),
          waiver('balance', '/card/number', 'value'),
          waiver('balance', '@status', 'value'),
          waiver('transactions', '/transactions/*', 'missing'),
          // expired: no longer applies
          { ...waiver('transactions', '/transactions/*/amount', 'value'), expiresAt: '2020-01-01T00:00:00.000Z' },
        ],
      },
      { by: 'test', action: 'init', reason: 'seed' },
    );
    await store.close();
    const out = join(dir, 'waived.json');
    const r1 = await cutover(['report', '--pairs', PAIRS, '--state', stateUrl, '--config', CONFIG, '--format', 'json', '--out', out, '--fail-on-open-findings']);
    expect(r1.code).toBe(1); // the expired waiver leaves /transactions/*/amount open
    const m = JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
    const statuses = Object.fromEntries(m.routes.flatMap((x) => x.paths.map((p) => [`${x.name} ${p.path}`, p.status])));
    expect(statuses).toEqual({
      'balance /balance': 'waived',
      'balance /card/number': 'waived',
      'balance /currency': 'waived',
      'balance @status': 'waived',
      'transactions /transactions/*': 'waived',
      'transactions /transactions/*/amount': 'open',
    });
    const b = m.routes.find((x) => x.name === 'balance')!;
    expect({ mismatching: b.mismatching, waivedOnly: b.waivedOnly, mismatchRate: b.mismatchRate, verdict: b.verdict }).toEqual({
      mismatching: 0,
      waivedOnly: 5,
      mismatchRate: 0,
      verdict: 'clean',
    });
    expect(b.paths.find((p) => p.path === '/balance')!.waiver).toMatchObject({ reason: 'intended: /balance', author: 'qa@example' });
    expect(m.timeline.events.map((e) => e.action)).toEqual(['init']); // history from the store
  });
});

describe('cutover report: bad input exits 2, names the option and writes nothing', () => {
  let closedPort: number;
  let server: Server;

  beforeAll(async () => {
    writeFileSync(join(dir, 'bad-line.jsonl'), `${readFileSync(PAIRS, 'utf8').split('\n')[0]}\n{"id": "x", "route": 5}\n`);
    closedPort = await freePort();
    // a port that accepts and says nothing: the admin source must not hang past its timeout
    server = createServer((s) => s.destroy());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  });

  afterAll(() => new Promise<void>((res) => server.close(() => res())));

  const cases: Array<[string, string[], RegExp]> = [
    ['no source', ['report'], /--admin: name a source/],
    ['two sources of diffs', ['report', '--pairs', PAIRS, '--admin', 'http://127.0.0.1:1'], /--pairs: cannot be combined with --admin/],
    ['two sources of history', ['report', '--history', HISTORY, '--state', 'file:///tmp/x.json'], /--history: cannot be combined with --state/],
    ['a bad --since', ['report', '--history', HISTORY, '--since', 'yesterday'], /--since: must be an ISO 8601 time .* \(got "yesterday"\)/],
    ['a rate over 1', ['report', '--history', HISTORY, '--fail-on-mismatch-rate', '2'], /--fail-on-mismatch-rate: must be between 0 and 1/],
    ['a rate that is not a number', ['report', '--history', HISTORY, '--fail-on-mismatch-rate', 'lots'], /--fail-on-mismatch-rate: must be a rate/],
    ['an unknown format', ['report', '--history', HISTORY, '--format', 'pdf'], /--format.*pdf/],
    ['a missing pairs file', ['report', '--pairs', join(FIX, 'nope.jsonl')], /--pairs: .*nope\.jsonl:0: cannot read the file: ENOENT/],
    ['a bad pairs line', ['report', '--pairs', 'BAD'], /--pairs: .*bad-line\.jsonl:2 route: must be a string/],
    ['a missing history file', ['report', '--history', join(FIX, 'nope.jsonl')], /--history: cannot read .*nope\.jsonl: ENOENT/],
    ['a missing config named with --config', ['report', '--history', HISTORY, '--config', join(FIX, 'nope.yaml')], /--config: cannot read .*nope\.yaml/],
    ['an admin URL that is not http', ['report', '--admin', 'ftp://x'], /--admin: must be an http:\/\/ or https:\/\/ URL/],
    ['an admin API that is down', ['report', '--admin', 'http://127.0.0.1:CLOSED'], /--admin: cannot reach http:\/\/127\.0\.0\.1:\d+\/admin\/.*is the proxy's admin plane running/],
    ['an admin API that hangs up', ['report', '--admin', 'http://127.0.0.1:MUTE'], /--admin: cannot reach http:\/\/127\.0\.0\.1:\d+\/admin\//],
    ['a state URL of an unknown kind', ['report', '--state', 'mysql://x'], /--state: must be a file:\/\/PATH or redis:\/\/HOST:PORT\/DB URL/],
  ];

  it.each(cases)('%s', async (_name, rawArgs, message) => {
    const out = join(dir, `bad-${Math.random().toString(36).slice(2)}.html`);
    const port = (server.address() as { port: number }).port;
    const args = rawArgs.map((a) => a.replace('BAD', join(dir, 'bad-line.jsonl')).replace('CLOSED', String(closedPort)).replace('MUTE', String(port)));
    const r = await cutover([...args, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});
