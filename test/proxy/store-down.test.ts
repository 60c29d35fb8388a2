import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { startProxy } from '../../proxy/index.js';
import { startRedis, stopAll } from '../helpers/processes.js';
import { rawRequest, startOrigin } from './origins.js';

afterAll(stopAll);

describe('state store unreachable', () => {
  it('keeps routing on the last applied state, reports degraded health, stays ready', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    const redis = await startRedis();
    const config = parseConfigText(
      `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: ${redis.url}
routes:
  - name: members
    match: { method: GET, path: /members }
    mode: v2
`,
      'test.yaml',
      {},
    );
    const proxy = await startProxy({ config, log: { log() {} } });
    try {
      expect((await (await fetch(`${proxy.adminUrl}/healthz`)).json()).status).toBe('ok');
      await redis.stop();
      let lastHealth: { status: string; storeUp: boolean } | undefined;
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        lastHealth = await (await fetch(`${proxy.adminUrl}/healthz`)).json();
        if (lastHealth!.status === 'degraded') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(lastHealth).toMatchObject({ status: 'degraded', storeUp: false });
      const r = await rawRequest(proxy.dataUrl, { path: '/members' });
      expect(r.headers['x-cutover-upstream']).toBe('v2');
      expect((await fetch(`${proxy.adminUrl}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text();
      expect(metrics).toContain('cutover_state_store_up 0');
    } finally {
      await proxy.close();
      await legacy.close();
      await v2.close();
    }
  });
});
