/**
 * `cutover verify --replay` end to end: the demo services in process, the CLI as a child
 * process, the demo config's compare rules. A correct V2 gives no finding; with V2's
 * wrong-balance bug on, the bug is found on the balance, and nothing else is reported.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServices, accountId, memberId, walletId, type RunningServices } from '../../services/index.js';
import type { RecordedRequest, AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { ROOT, runCutover, stopAll, tempDir } from '../helpers/processes.js';

let svc: RunningServices;
const dir = tempDir();
const requestsFile = join(dir, 'requests.jsonl');
const key = { 'x-api-key': 'demo-key-full' };

function requests(): RecordedRequest[] {
  const out: RecordedRequest[] = [];
  for (let i = 1; i <= 40; i++) out.push({ method: 'GET', path: `/accounts/${accountId(i)}/balance`, headers: key });
  for (let i = 1; i <= 8; i++) out.push({ method: 'GET', path: `/accounts/${accountId(i)}/transactions?limit=20`, headers: key });
  for (let i = 1; i <= 5; i++) out.push({ method: 'GET', path: `/accounts/${accountId(i)}/statements/2025-03`, headers: key });
  for (let i = 1; i <= 5; i++) out.push({ method: 'GET', path: `/members/${memberId(i)}`, headers: key });
  for (let i = 1; i <= 5; i++) out.push({ method: 'GET', path: `/wallets/${walletId(i)}`, headers: key });
  for (const h of ['H-0001', 'H-0002']) out.push({ method: 'GET', path: `/hierarchies/${h}/balance`, headers: key });
  // A posting: never replayed without --allow-unsafe.
  out.push({ method: 'POST', path: '/transactions', headers: { ...key, 'content-type': 'application/json' }, body: JSON.stringify({ accountId: accountId(1), amount: '1.00', type: 'credit' }) });
  return out;
}

beforeAll(async () => {
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
  writeFileSync(requestsFile, requests().map((r) => JSON.stringify(r)).join('\n') + '\n');
});
afterAll(async () => {
  await svc?.close();
  await stopAll();
});

async function replay(out: string) {
  const r = await runCutover(
    ['verify', '--replay', requestsFile, '--legacy', svc.legacy.url, '--v2', svc.v2.url, '--config', join(ROOT, 'examples', 'demo.cutover.yaml'), '--concurrency', '4', '--json', '--out', out],
    { timeoutMs: 60_000 },
  );
  const doc = JSON.parse(r.stdout) as { exitCode: number; replayed: number; skippedUnsafe: number; summary: AggregateSnapshot };
  const verdicts = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Verdict);
  return { code: r.code, stderr: r.stderr, doc, verdicts };
}

describe('verify --replay against the demo services', () => {
  it('finds nothing when V2 is correct (the demo rules cancel every intended difference)', async () => {
    await fetch(`${svc.v2.url}/_admin/faults`, { method: 'DELETE' });
    const { code, doc, verdicts, stderr } = await replay(join(dir, 'clean.jsonl'));
    expect(stderr).toMatch(/replay: 65\/65/);
    expect(doc.replayed).toBe(65);
    expect(doc.skippedUnsafe).toBe(1);
    const open = verdicts.filter((v) => v.result !== 'match');
    expect(open.map((v) => `${v.route} ${v.path} ${JSON.stringify(v.findings)} ${v.error ?? ''}`)).toEqual([]);
    expect(code).toBe(0);
    expect(new Set(verdicts.map((v) => v.route))).toEqual(new Set(['balance', 'transactions', 'statement', 'member', 'wallet', 'hierarchy-balance']));
  });

  it('finds the wrong-balance bug on the balance and nothing else', async () => {
    const res = await fetch(`${svc.v2.url}/_admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ wrongBalanceShare: 0.25 }),
    });
    expect(res.status).toBe(200);
    try {
      const { code, doc, verdicts } = await replay(join(dir, 'bug.jsonl'));
      expect(code).toBe(1);
      const mismatched = verdicts.filter((v) => v.result === 'mismatch');
      expect(mismatched.length).toBeGreaterThan(2);
      expect(mismatched.length).toBeLessThan(30);
      expect(verdicts.filter((v) => v.result === 'error')).toEqual([]);
      for (const v of mismatched) {
        expect(v.route).toBe('balance');
        expect(v.findings.map((f) => `${f.path} ${f.kind}`).sort()).toEqual(['/available value', '/balance value']);
        const f = v.findings.find((x) => x.path === '/balance')!;
        // one minor unit too high, as exact decimals
        expect(Math.round((Number(f.v2) - Number(f.legacy)) * 100)).toBe(1);
      }
      const balance = doc.summary.routes.find((r) => r.route === 'balance')!;
      expect(balance.mismatch).toBe(mismatched.length);
      expect(balance.paths.filter((p) => p.count > 0).map((p) => p.path).sort()).toEqual(['/available', '/balance']);
      for (const r of doc.summary.routes.filter((x) => x.route !== 'balance')) expect(r.mismatch).toBe(0);
    } finally {
      await fetch(`${svc.v2.url}/_admin/faults`, { method: 'DELETE' });
    }
  });
});
