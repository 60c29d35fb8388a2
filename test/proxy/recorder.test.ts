import { REDACTED } from '../../shared/secrets.js';
import { readFileSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { toRecordedRequest } from '../../verifier/input.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, startTestProxy } from './origins.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: legacy
  - name: transfer
    match: { method: PUT, path: /transfers/:id }
    mode: mirror
    mirrorUnsafe: true
`;

async function fixture(sample: number) {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2');
  const file = `${tempDir()}/rec/requests.jsonl`;
  const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml: `record: { file: ${file}, sample: ${sample} }` });
  open.push(legacy, v2);
  return { fx, file };
}

describe('request recording', () => {
  it('writes sampled requests as JSONL that verify --replay reads, credentials redacted', async () => {
    const { fx, file } = await fixture(100);
    await rawRequest(fx.proxy.dataUrl, { path: '/accounts/A-1/balance?at=now', headers: { authorization: 'Bearer secret', 'x-api-key': 'k1', accept: 'application/json' } });
    await rawRequest(fx.proxy.dataUrl, { method: 'PUT', path: '/transfers/t1', headers: { 'content-type': 'application/json' }, body: '{"amount":"2.50"}' });
    await fx.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const reqs = lines.map((l, i) => toRecordedRequest(JSON.parse(l), file, i + 1));
    expect(reqs[0]).toMatchObject({ method: 'GET', path: '/accounts/A-1/balance?at=now', route: 'balance' });
    expect(reqs[0].headers).toMatchObject({ authorization: REDACTED, 'x-api-key': REDACTED, accept: 'application/json' });
    expect(reqs[1]).toMatchObject({ method: 'PUT', path: '/transfers/t1', route: 'transfer', body: '{"amount":"2.50"}' });
    expect(readFileSync(file, 'utf8')).not.toContain('secret');
  });

  it('records nothing at sample 0', async () => {
    const { fx, file } = await fixture(0);
    for (let i = 0; i < 5; i++) await rawRequest(fx.proxy.dataUrl, { path: `/accounts/A-${i}/balance` });
    await fx.close();
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
  });
});
