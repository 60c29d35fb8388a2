import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../shared/state/index.js';
import { freePort, runCutover, spawnCutover, stopAll, tempDir } from '../helpers/processes.js';
import { makePair } from './helpers.js';

afterAll(stopAll);

const dir = tempDir();
function pairsFile(name: string, lines: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}
const clean = JSON.stringify(makePair({ body: { balance: '10.00' } }, { body: { balance: '10.00' } }));
const drift = JSON.stringify(makePair({ body: { balance: '10.00' } }, { body: { balance: '10.01' } }));
const extraField = JSON.stringify(makePair({ body: { balance: '10.00' } }, { body: { balance: '10.00', links: {} } }));

describe('cutover verify --pairs', () => {
  it('exits 0 when every pair matches', async () => {
    const r = await runCutover(['verify', '--pairs', pairsFile('clean.jsonl', [clean, clean])]);
    expect(r.stdout).toMatch(/verified 2 pairs/);
    expect(r.stdout).toMatch(/result: no open findings \(exit 0\)/);
    expect(r.code).toBe(0);
  });

  it('exits 1 with open findings and says where, as text and as JSON', async () => {
    const f = pairsFile('drift.jsonl', [clean, drift]);
    const text = await runCutover(['verify', '--pairs', f]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/balance {2}\/balance {2}value {2}1 pair \(50\.00 %\).*legacy "10\.00" -> v2 "10\.01"/);
    const json = await runCutover(['verify', '--pairs', f, '--json']);
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, exitCode: 1, summary: { schemaVersion: 1, totals: { pairs: 2, mismatch: 1, match: 1 } } });
    expect(doc.summary.routes[0].paths[0]).toMatchObject({ path: '/balance', kind: 'value', count: 1 });
  });

  it('exits 2 naming the bad line, and writes nothing', async () => {
    const f = pairsFile('bad.jsonl', [clean, '', '{"route": "balance", "legacy": {"status": 200, "body": "{}"}, "v2": {"status": "200", "body": "{}"}}']);
    const out = join(dir, 'never.jsonl');
    const r = await runCutover(['verify', '--pairs', f, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:3 v2\.status: must be an HTTP status code/);
    expect(existsSync(out)).toBe(false);
    const notJson = await runCutover(['verify', '--pairs', pairsFile('notjson.jsonl', [clean, '{oops'])]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/notjson\.jsonl:2: is not valid JSON/);
  });

  it('refuses bad usage with exit 2', async () => {
    const none = await runCutover(['verify']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--pairs: give --pairs FILE/);
    const noUrls = await runCutover(['verify', '--replay', pairsFile('r.jsonl', ['{"method":"GET","path":"/a"}'])]);
    expect(noUrls.code).toBe(2);
    expect(noUrls.stderr).toMatch(/--legacy: is required with --replay/);
  });
});

describe('cutover waive', () => {
  it('adds, lists and removes waivers in the state store, and verify applies them', async () => {
    const stateUrl = `file://${join(dir, 'state', 'state.json')}`;
    const base = ['--state', stateUrl];
    const bad = await runCutover(['waive', 'add', ...base, '--route', 'balance', '--path', '/links', '--kind', 'weird', '--reason', 'x', '--expires', '7d']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kind: "weird" must be one of/);

    const add = await runCutover(['waive', 'add', ...base, '--route', 'balance', '--path', '/links', '--kind', 'extra', '--reason', 'V2 adds HATEOAS links', '--expires', '7d', '--by', 'qa', '--json']);
    expect(add.code).toBe(0);
    const w = JSON.parse(add.stdout).waiver;
    expect(w).toMatchObject({ route: 'balance', path: '/links', kind: 'extra', author: 'qa', reason: 'V2 adds HATEOAS links' });

    const list = await runCutover(['waive', 'list', ...base]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(w.id);
    expect(list.stdout).toContain('V2 adds HATEOAS links');

    const verified = await runCutover(['verify', '--pairs', pairsFile('links.jsonl', [extraField, clean]), '--state', stateUrl, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout).summary.totals).toMatchObject({ pairs: 2, waived: 1, mismatch: 0 });

    const rm = await runCutover(['waive', 'remove', w.id, ...base, '--by', 'lead', '--reason', 'fixed']);
    expect(rm.code).toBe(0);
    const missing = await runCutover(['waive', 'remove', w.id, ...base]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no waiver with id/);

    const store = openStateStore(stateUrl);
    try {
      expect((await store.read())?.waivers).toEqual([]);
      const entries = (await store.history()).filter((h) => h.action === 'waiver');
      expect(entries.map((e) => [e.by, e.data?.op])).toEqual([
        ['qa', 'add'],
        ['lead', 'remove'],
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('cutover waive --admin', () => {
  it("changes waivers through a proxy's admin API, with the token, into the proxy's state store", async () => {
    const [dataPort, adminPort] = [await freePort(), await freePort()];
    const stateFile = join(dir, 'admin-state', 'state.json');
    const token = 'test-admin-token-0123456789';
    const cfg = join(dir, 'admin.yaml');
    writeFileSync(
      cfg,
      [
        'upstreams: { legacy: http://127.0.0.1:9, v2: http://127.0.0.1:10 }',
        `listen: { data: 127.0.0.1:${dataPort}, admin: 127.0.0.1:${adminPort} }`,
        `state: file://${stateFile}`,
        `adminToken: ${token}`,
        'routes:',
        '  - name: balance',
        '    match: { method: GET, path: /accounts/:id/balance }',
        '',
      ].join('\n'),
    );
    const proxy = spawnCutover(['proxy', '--config', cfg], { env: { CUTOVER_LOG_LEVEL: 'warn' } });
    try {
      await proxy.waitForOutput(/ready: rollout state version/, 20_000);
      const admin = `http://127.0.0.1:${adminPort}`;
      const noToken = await runCutover(['waive', 'add', '--admin', admin, '--route', 'balance', '--path', '/links', '--kind', 'extra', '--reason', 'r', '--expires', '1d', '--by', 'qa'], {
        env: { CUTOVER_ADMIN_TOKEN: '' },
      });
      expect(noToken.code).toBe(2);
      expect(noToken.stderr).toMatch(/token/);
      const add = await runCutover(['waive', 'add', '--admin', admin, '--token', token, '--route', 'balance', '--path', '/links', '--kind', 'extra', '--reason', 'links are new', '--expires', '1d', '--by', 'qa', '--json']);
      expect(add.code).toBe(0);
      const w = JSON.parse(add.stdout).waiver;
      const store = openStateStore(`file://${stateFile}`);
      try {
        expect((await store.read())?.waivers?.map((x) => x.id)).toEqual([w.id]);
        expect((await store.history()).at(-1)).toMatchObject({ action: 'waiver', by: 'qa', reason: 'links are new' });
      } finally {
        await store.close();
      }
      // reading the state through the admin plane needs the token too (it holds customer data)
      const unauthorised = await runCutover(['waive', 'list', '--admin', admin], { env: { CUTOVER_ADMIN_TOKEN: '' } });
      expect(unauthorised.code).toBe(2);
      expect(unauthorised.stderr).toMatch(/token/);
      // the proxy applies the new state; list through it
      const deadline = Date.now() + 30_000;
      let listed = '';
      while (Date.now() < deadline && !listed.includes(w.id)) {
        listed = (await runCutover(['waive', 'list', '--admin', admin, '--token', token])).stdout;
      }
      expect(listed).toContain(w.id);
    } finally {
      await proxy.stop();
    }
  });
});
