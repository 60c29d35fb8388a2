/**
 * `cutover shadow` with routes that move to different services: it says which services it calls,
 * and verifies each mirrored request between the route's own legacy side and its own V2 service.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnCutover, stopAll, tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, waitFor, type Origin } from '../proxy/origins.js';

const names = ['legacy', 'transactions-v2', 'wallets-v2'] as const;
const o = {} as Record<(typeof names)[number], Origin>;

beforeAll(async () => {
  for (const n of names) o[n] = await startOrigin(n);
});
afterAll(async () => {
  await stopAll();
  for (const n of names) await o[n]?.close();
});

describe('cutover shadow: many services', { timeout: 90_000 }, () => {
  it("names the services it calls and calls each route's own", async () => {
    const dir = tempDir();
    const file = join(dir, 'cutover.yaml');
    writeFileSync(
      file,
      `upstreams:
  legacy: ${o.legacy.url}
  transactions-v2: ${o['transactions-v2'].url}
  wallets-v2: ${o['wallets-v2'].url}
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
shadow: { listen: 127.0.0.1:${await freePort()} }
state: file://${dir}/state.json
defaultRoute: { v2: transactions-v2 }
routes:
  - name: transactions
    match: { method: GET, path: /transactions/:id }
    v2: transactions-v2
    mode: mirror
  - name: transfers
    match: { method: GET, path: /transfers/:id }
    legacy: transactions-v2
    v2: wallets-v2
    mode: mirror
`,
    );
    const shadow = spawnCutover(['shadow', '--config', file]);
    const line = await shadow.waitForOutput(/shadow target listening on (http:\/\/\S+) \((.*)\)\n/, 60_000);
    expect(line[2]).toBe(`calls, per route: legacy ${o.legacy.url} -> transactions-v2 ${o['transactions-v2'].url}; transactions-v2 ${o['transactions-v2'].url} -> wallets-v2 ${o['wallets-v2'].url}`);
    await shadow.waitForOutput(/ready: rollout state version/, 60_000);
    for (let i = 0; i < 3; i++) expect((await rawRequest(line[1]!, { path: `/transfers/${i}` })).status).toBe(202);
    for (let i = 0; i < 2; i++) expect((await rawRequest(line[1]!, { path: `/transactions/${i}` })).status).toBe(202);
    const at = (n: (typeof names)[number], prefix: string) => o[n].seen.filter((s) => s.url.startsWith(prefix)).length;
    await waitFor(() => at('wallets-v2', '/transfers/') === 3 && at('transactions-v2', '/transfers/') === 3 && at('legacy', '/transactions/') === 2, 30_000);
    expect(at('legacy', '/transfers/')).toBe(0);
    expect(at('transactions-v2', '/transactions/')).toBe(2);
    expect(at('wallets-v2', '/transactions/')).toBe(0);
  });
});
