/**
 * The demo config's compare rules, applied by the real verifier (verifier/compare.ts
 * diffValues) to real legacy and V2 answers: a correct V2 gives no finding on any endpoint;
 * each V2 bug knob gives exactly the finding it should.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfig, type CutoverConfig } from '../../shared/config.js';
import { diffValues } from '../../verifier/compare.js';
import { startServices, type RunningServices, accountId } from '../../services/index.js';
import { ROOT } from '../helpers/processes.js';
import { FULL_KEY, getJson, mapLimit, postJson, sendJson } from './helpers.js';

let svc: RunningServices;
let config: Readonly<CutoverConfig>;

beforeAll(async () => {
  config = loadConfig(join(ROOT, 'examples', 'demo.cutover.yaml'), {});
  svc = await startServices({ legacyPort: 0, v2Port: 0, seed: 42 });
});
afterAll(async () => {
  await svc?.close();
});

const rules = (route: string) => config.routes.find((r) => r.name === route)!.compare;

async function findings(route: string, path: string) {
  const [l, v] = await Promise.all([getJson(svc.legacy.url + path), getJson(svc.v2.url + path, FULL_KEY)]);
  expect(v.status).toBe(l.status);
  return diffValues(l.body, v.body, rules(route));
}

describe('demo.cutover.yaml rules with the verifier', () => {
  it('a correct V2 gives no finding on any endpoint, over a sample of ids', async () => {
    const paths: Array<[string, string]> = [];
    for (let n = 1; n <= 3000; n += 97) {
      const a = accountId(n);
      paths.push(['balance', `/accounts/${a}/balance`]);
      paths.push(['transactions', `/accounts/${a}/transactions?limit=50`]);
      paths.push(['statement', `/accounts/${a}/statements/2025-11`]);
    }
    for (let n = 1; n <= 800; n += 53) paths.push(['member', `/members/M-${String(n).padStart(6, '0')}`]);
    for (let n = 1; n <= 400; n += 37) paths.push(['wallet', `/wallets/W-${String(n).padStart(6, '0')}`]);
    for (let n = 1; n <= 6; n++) paths.push(['hierarchy-balance', `/hierarchies/H-000${n}/balance`]);
    paths.push(['hierarchy-balance', `/hierarchies/H-0003/balance?detail=accounts`]);
    const all = await mapLimit(paths, 8, async ([route, path]) => ({ path, f: await findings(route, path) }));
    expect(all.filter((x) => x.f.length > 0)).toEqual([]);
  });

  it('a posting answered by both (a retried key) gives no finding', async () => {
    const body = { accountId: 'A-000001', type: 'credit', amount: '12.30', currency: 'USD' };
    const l = await postJson(`${svc.legacy.url}/transactions`, body, { 'idempotency-key': 'verifier-post' });
    const v = await postJson(`${svc.v2.url}/transactions`, body, { ...FULL_KEY, 'idempotency-key': 'verifier-post' });
    expect(diffValues(l.body, v.body, rules('post-transaction'))).toEqual([]);
  });

  it('wrongBalanceShare=1 shows as value findings on /balance and /available only', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { wrongBalanceShare: 1 });
    try {
      const f = await findings('balance', '/accounts/A-000007/balance');
      expect(f.map((x) => [x.path, x.kind]).sort()).toEqual([
        ['/available', 'value'],
        ['/balance', 'value'],
      ]);
    } finally {
      await sendJson('DELETE', `${svc.v2.url}/_admin/faults`);
    }
  });

  it('dropField=available shows as one missing field', async () => {
    await sendJson('PUT', `${svc.v2.url}/_admin/faults`, { dropField: 'available' });
    try {
      const f = await findings('balance', '/accounts/A-000008/balance');
      expect(f.map((x) => [x.path, x.kind])).toEqual([['/available', 'missing']]);
    } finally {
      await sendJson('DELETE', `${svc.v2.url}/_admin/faults`);
    }
  });
});
