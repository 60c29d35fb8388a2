/**
 * `cutover report --admin URL` against a real proxy: two node:http upstreams on loopback, the
 * proxy in mirror mode feeding the verifier's pipeline, real requests, a pause and a resume
 * through the admin API; the report reads diffs, stats and history from the admin plane.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { createLogger } from '../../proxy/log.js';
import type { ReportModel } from '../../reports/model.js';
import { main } from '../../rollout-cli/main.js';
import { parseConfigText } from '../../shared/config.js';
import { VerifierPipeline } from '../../verifier/pipeline.js';
import { tempDir } from '../helpers/processes.js';

const TOKEN = 'report-test-token-0123456789';
const REQUESTS = 20;
let dir: string;
let legacy: http.Server;
let v2: http.Server;
let proxy: RunningProxy;
let pipeline: VerifierPipeline;

function origin(balanceFor: (account: number) => string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const account = Number(/\/accounts\/(\d+)\//.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ accountId: String(account), balance: balanceFor(account), currency: 'EUR' }));
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res(server)));
}

const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    return { value: await fn(), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function change(body: object): Promise<void> {
  const r = await fetch(`${proxy.adminUrl}/admin/change`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  dir = tempDir('cutover-report-admin-');
  legacy = await origin(() => '100.50');
  // V2 is a cent short on odd accounts
  v2 = await origin((a) => (a % 2 === 1 ? '100.49' : '100.50'));
  const config = parseConfigText(
    [
      `upstreams: { legacy: ${urlOf(legacy)}, v2: ${urlOf(v2)} }`,
      'listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }',
      `state: file://${join(dir, 'state.json')}`,
      `adminToken: ${TOKEN}`,
      'routes:',
      '  - name: balance',
      '    match: { method: GET, path: /accounts/:accountId/balance }',
      '    mode: mirror',
      '    compare: { decimal: [/balance] }',
    ].join('\n'),
    'test config',
  );
  pipeline = new VerifierPipeline({ config, workers: 0, source: 'report admin test' });
  proxy = await startProxy({ config, pairSink: pipeline, log: createLogger({ write: () => undefined }) });
  await proxy.ready;
  for (let i = 0; i < REQUESTS; i++) {
    const r = await fetch(`${proxy.dataUrl}/accounts/${i}/balance`);
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  }
  const deadline = Date.now() + 10_000;
  while (pipeline.snapshot().totals.pairs < REQUESTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  await change({ action: 'pause', reason: 'lunch break', by: 'tester' });
  await change({ action: 'resume', reason: 'back from lunch', by: 'tester' });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await pipeline?.close();
  await Promise.all([legacy, v2].map((s) => new Promise<void>((res) => (s ? s.close(() => res()) : res()))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cutover report --admin', () => {
  it('reads diffs, traffic and history from a running proxy', async () => {
    const out = join(dir, 'admin.json');
    const { value: code, stderr } = await quietly(() => main(['node', 'cutover', 'report', '--admin', proxy.adminUrl, '--token', TOKEN, '--format', 'json', '--out', out]));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const m = JSON.parse(readFileSync(out, 'utf8')) as ReportModel;
    const b = m.routes.find((r) => r.name === 'balance')!;
    expect({ pairs: b.pairs, matching: b.matching, mismatching: b.mismatching }).toEqual({ pairs: REQUESTS, matching: REQUESTS / 2, mismatching: REQUESTS / 2 });
    expect(b.paths.map((p) => [p.path, p.kind, p.count])).toEqual([['/balance', 'value', REQUESTS / 2]]);
    // traffic from /admin/stats: legacy served every request, V2 got every copy
    expect(b.traffic).toMatchObject({ servedLegacy: REQUESTS, servedV2: 0, mirroredV2: REQUESTS });
    expect(b.paths[0]!.examples[0]).toMatchObject({ bodies: false, fields: [{ pointer: '/balance', kind: 'value', legacy: '"100.50"', v2: '"100.49"' }] });
    const actions = m.timeline.events.map((e) => [e.action, e.reason]);
    expect(actions).toEqual(expect.arrayContaining([['pause', 'lunch break'], ['resume', 'back from lunch']]));
    // The proxy serves its verifier's aggregate of every pair (GET /admin/diffs/summary).
    expect(m.sources.join(' ')).toContain(`admin ${proxy.adminUrl} (diffs: the verifier aggregate of all pairs)`);
  });

  it('shows the differing values without bodies in the HTML', async () => {
    const out = join(dir, 'admin.html');
    const { value: code } = await quietly(() => main(['node', 'cutover', 'report', '--admin', proxy.adminUrl, '--token', TOKEN, '--out', out]));
    expect(code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('The source kept the differing values, not the bodies');
    expect(html).toContain('&quot;100.49&quot;');
  });
});
