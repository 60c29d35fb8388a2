/**
 * Reads of customer data on the admin plane need the token whenever one is configured; the
 * probes (/healthz, /readyz, /metrics) stay open unless `adminOpen` leaves them out. Admin
 * requests whose body never fully arrives get 408 instead of holding a socket forever.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin } from './origins.js';

const TOKEN = 'read-auth-token-0123456789';
const READS = ['/admin/diffs', '/admin/diffs/summary', '/admin/history', '/admin/state', '/admin/stats', '/admin/replicas'];
const PROBES = ['/healthz', '/readyz', '/metrics'];

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function proxyWith(extraYaml: string): Promise<RunningProxy> {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2');
  open.push(legacy, v2);
  const config = parseConfigText(
    `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:0, admin: 0.0.0.0:0 }
state: file://${tempDir()}/state.json
${extraYaml}
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
`,
    'test.yaml',
    {},
  );
  const proxy = await startProxy({ config, log: { log() {} } });
  open.push(proxy);
  return proxy;
}

const local = (p: RunningProxy) => p.adminUrl.replace('0.0.0.0', '127.0.0.1');

describe('admin reads with a configured token', () => {
  it('answers each read of customer data 401 without the token, 403 with a wrong one, 200 with it; probes stay open', async () => {
    const proxy = await proxyWith(`adminToken: ${TOKEN}`);
    for (const path of READS) {
      const none = await rawRequest(local(proxy), { path });
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers['www-authenticate']).toBe('Bearer');
      expect(JSON.parse(none.body.toString()).error.message).toMatch(/needs Authorization: Bearer/);
      const wrong = await rawRequest(local(proxy), { path, headers: { authorization: 'Bearer wrong-token-0123456789' } });
      expect([path, wrong.status]).toEqual([path, 403]);
      const ok = await rawRequest(local(proxy), { path, headers: { authorization: `Bearer ${TOKEN}` } });
      expect([path, ok.status]).toEqual([path, 200]);
    }
    for (const path of PROBES) {
      const r = await rawRequest(local(proxy), { path });
      expect([path, r.status]).toEqual([path, 200]);
    }
  });

  it('locks the probes too when adminOpen leaves them out', async () => {
    const proxy = await proxyWith(`adminToken: ${TOKEN}\nadminOpen: [/healthz]`);
    expect((await rawRequest(local(proxy), { path: '/healthz' })).status).toBe(200);
    for (const path of ['/readyz', '/metrics']) {
      expect([path, (await rawRequest(local(proxy), { path })).status]).toEqual([path, 401]);
      expect([path, (await rawRequest(local(proxy), { path, headers: { authorization: `Bearer ${TOKEN}` } })).status]).toEqual([path, 200]);
    }
  });

  it('leaves reads open on a loopback admin plane without a token (changes stay refused)', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const config = parseConfigText(
      `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }\nlisten: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }\nstate: file://${tempDir()}/state.json\n`,
      'test.yaml',
      {},
    );
    const proxy = await startProxy({ config, log: { log() {} } });
    open.push(proxy);
    for (const path of READS) expect([path, (await rawRequest(proxy.adminUrl, { path })).status]).toEqual([path, 200]);
    const change = await rawRequest(proxy.adminUrl, { method: 'POST', path: '/admin/change', headers: { 'content-type': 'application/json' }, body: '{"action":"pause"}' });
    expect(change.status).toBe(401);
  });
});

describe('admin request bounds', () => {
  it('answers 408 to a POST whose body is shorter than its Content-Length, and changes nothing', async () => {
    const proxy = await proxyWith(`adminToken: ${TOKEN}`);
    const before = await rawRequest(local(proxy), { path: '/admin/state', headers: { authorization: `Bearer ${TOKEN}` } });
    const u = new URL(local(proxy));
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(Number(u.port), u.hostname, () => {
        sock.write(
          `POST /admin/abort HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"reason":`,
        );
      });
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
      // generous bound: the proxy answers after its 10 s request timeout
      setTimeout(() => {
        sock.destroy();
        resolve(got);
      }, 45_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    const after = await rawRequest(local(proxy), { path: '/admin/state', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(JSON.parse(after.body.toString()).state.version).toBe(JSON.parse(before.body.toString()).state.version);
    expect(JSON.parse(after.body.toString()).state.aborted).toBe(false);
  }, 60_000);

  it('answers 413 to a body over the admin limit, and 400 naming the problem to JSON that does not parse', async () => {
    const proxy = await proxyWith(`adminToken: ${TOKEN}`);
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const big = await rawRequest(local(proxy), { method: 'POST', path: '/admin/abort', headers, body: JSON.stringify({ reason: 'x'.repeat(2_000_000) }) });
    expect(big.status).toBe(413);
    const bad = await rawRequest(local(proxy), { method: 'POST', path: '/admin/abort', headers, body: '{"reason":' });
    expect(bad.status).toBe(400);
    expect(bad.body.toString()).not.toMatch(/at .*\.js:\d+/);
  });
});
