/**
 * A report over routes that move to different V2 services: a real proxy mirrors two routes to
 * two named services, the verifier compares the pairs, and `cutover report --admin` names each
 * route's services in the routes table and next to its findings (HTML and Markdown); the
 * verdicts carry the services too.
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
import type { Verdict } from '../../verifier/types.js';
import { tempDir } from '../helpers/processes.js';

const TOKEN = 'report-services-token-0123456789';
const REQUESTS = 10;
let dir: string;
const servers: http.Server[] = [];
let proxy: RunningProxy;
let pipeline: VerifierPipeline;

/** A service answering a balance; `cents` is what it says after the decimal point. */
async function service(cents: string): Promise<string> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ url: req.url, balance: `100.${cents}` }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await fn();
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  dir = tempDir('cutover-report-services-');
  const config = parseConfigText(
    [
      'upstreams:',
      `  legacy: ${await service('50')}`,
      `  statements-v2: ${await service('49')}`, // a cent short: the bug lives here
      `  wallets-v2: ${await service('50')}`,
      'listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }',
      `state: file://${join(dir, 'state.json')}`,
      `adminToken: ${TOKEN}`,
      'defaultRoute: { v2: wallets-v2 }',
      'routes:',
      '  - name: statements',
      '    match: { method: GET, path: /statements/:id }',
      '    v2: statements-v2',
      '    mode: mirror',
      '  - name: wallets',
      '    match: { method: GET, path: /wallets/:id }',
      '    v2: wallets-v2',
      '    mode: mirror',
    ].join('\n'),
    'test config',
  );
  pipeline = new VerifierPipeline({ config, workers: 0, source: 'report services test' });
  proxy = await startProxy({ config, pairSink: pipeline, log: createLogger({ write: () => undefined }) });
  await proxy.ready;
  for (let i = 0; i < REQUESTS; i++) {
    for (const p of [`/statements/${i}`, `/wallets/${i}`]) {
      const r = await fetch(`${proxy.dataUrl}${p}`);
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
  }
  const deadline = Date.now() + 30_000;
  while (pipeline.snapshot().totals.pairs < 2 * REQUESTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await pipeline?.close();
  await Promise.all(servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a report over several V2 services', () => {
  it('names each route its services in the model, the routes table and the findings', async () => {
    const json = join(dir, 'r.json');
    expect(await quietly(() => main(['node', 'cutover', 'report', '--admin', proxy.adminUrl, '--token', TOKEN, '--format', 'json', '--out', json]))).toBe(0);
    const m = JSON.parse(readFileSync(json, 'utf8')) as ReportModel;
    const st = m.routes.find((r) => r.name === 'statements')!;
    const wa = m.routes.find((r) => r.name === 'wallets')!;
    expect(st.upstreams).toEqual({ legacy: 'legacy', v2: 'statements-v2' });
    expect(wa.upstreams).toEqual({ legacy: 'legacy', v2: 'wallets-v2' });
    expect([st.mismatching, wa.mismatching]).toEqual([REQUESTS, 0]);

    const md = join(dir, 'r.md');
    expect(await quietly(() => main(['node', 'cutover', 'report', '--admin', proxy.adminUrl, '--token', TOKEN, '--format', 'md', '--out', md]))).toBe(0);
    const text = readFileSync(md, 'utf8');
    expect(text).toContain('| `statements` (legacy → statements-v2) |');
    expect(text).toContain('| `wallets` (legacy → wallets-v2) |');
    // The finding row names the service it is a difference of.
    expect(text).toMatch(/\| `statements` \(statements-v2\) \| `\/balance` \|/);

    const html = join(dir, 'r.html');
    expect(await quietly(() => main(['node', 'cutover', 'report', '--admin', proxy.adminUrl, '--token', TOKEN, '--out', html]))).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<span class="muted">legacy → statements-v2</span>');
    expect(page).toContain('findings are differences of statements-v2 from legacy');
  });

  it('carries the services on the verdicts', async () => {
    const r = await fetch(`${proxy.adminUrl}/admin/diffs?route=statements`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { diffs?: Verdict[]; verdicts?: Verdict[] } | Verdict[];
    const list = Array.isArray(body) ? body : (body.diffs ?? body.verdicts ?? []);
    expect(list.length).toBeGreaterThan(0);
    for (const v of list) expect([v.legacyUpstream, v.v2Upstream]).toEqual(['legacy', 'statements-v2']);
  });
});
