/**
 * Request targets and header blocks, sent byte for byte: absolute-form targets are routed by
 * their path, checked against Host and forwarded in origin form; `OPTIONS *` is answered by the
 * proxy and blamed on no upstream; two Host fields are a 400; more header fields than
 * limits.maxHeaders is a 431, never a silent drop; Proxy-Authorization never leaves the proxy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { originFormTarget } from '../../../proxy/request-target.js';
import { startOrigin, startTestProxy, waitFor, type Origin, type ProxyFixture } from '../origins.js';
import { RawClient } from '../raw-socket.js';

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const ROUTES = `
  - name: balance
    match: { method: GET, path: /accounts/:id/balance }
    mode: v2
  - name: mirrored
    match: { method: GET, path: /members/:id }
    mode: mirror
`;

async function setup(yaml = ''): Promise<{ legacy: Origin; v2: Origin; fx: ProxyFixture }> {
  const legacy = await startOrigin('legacy');
  const v2 = await startOrigin('v2');
  open.push(legacy, v2);
  const fx = await startTestProxy({ legacy: legacy.url, v2: v2.url }, ROUTES, { yaml, opts: { verifier: false } });
  open.push(fx);
  return { legacy, v2, fx };
}

async function send(fx: ProxyFixture, text: string) {
  const c = await RawClient.connect(fx.proxy.dataUrl);
  open.push({ close: () => c.close() });
  c.write(text);
  return { c, r: await c.response() };
}

async function statsOf(fx: ProxyFixture) {
  return (await (await fetch(`${fx.proxy.adminUrl}/admin/stats?window=60s`)).json()).routes;
}

describe('absolute-form request targets', () => {
  it('are routed by their path and forwarded in origin form', async () => {
    const { legacy, v2, fx } = await setup();
    const { r } = await send(fx, 'GET http://bank.example/accounts/A-1/balance?as=of HTTP/1.1\r\nHost: bank.example\r\n\r\n');
    expect(r.status).toBe(200);
    // The route is mode v2: routed by the path, not sent to the default route (legacy).
    expect(r.headers['x-cutover-upstream']).toBe('v2');
    expect(v2.seen.map((s) => s.url)).toEqual(['/accounts/A-1/balance?as=of']);
    expect(legacy.seen).toHaveLength(0);
  });

  it('with a host other than Host: 400 naming both, and nothing is forwarded', async () => {
    const { legacy, v2, fx } = await setup();
    const { r } = await send(fx, 'GET http://evil.example/accounts/A-1/balance HTTP/1.1\r\nHost: bank.example\r\n\r\n');
    expect(r.status).toBe(400);
    const body = JSON.parse(r.body);
    expect(body.error.code).toBe('CUTOVER_ERR_HOST_MISMATCH');
    expect(body.error.message).toContain('evil.example');
    expect(body.error.message).toContain('bank.example');
    expect(legacy.seen.length + v2.seen.length).toBe(0);
  });

  it('originFormTarget: the path and query of an http(s) URL, "/" for none; anything else is refused', () => {
    expect(originFormTarget('GET', '/a?b', 'h')).toBe('/a?b');
    expect(originFormTarget('GET', 'http://h/a/b?c=1', 'h')).toBe('/a/b?c=1');
    expect(originFormTarget('GET', 'HTTPS://H:8443', 'h:8443')).toBe('/');
    expect(originFormTarget('GET', 'http://h?x=1', 'h')).toBe('/?x=1');
    expect(originFormTarget('GET', 'http://user@h/a', 'h')).toMatchObject({ status: 400 });
    expect(originFormTarget('GET', 'ftp://h/a', 'h')).toMatchObject({ status: 400, code: 'CUTOVER_ERR_BAD_TARGET' });
    expect(originFormTarget('GET', '*', 'h')).toMatchObject({ status: 400 });
    expect(originFormTarget('OPTIONS', '*', 'h')).toBe('*');
  });
});

describe('OPTIONS *', () => {
  it('is answered by the proxy, asks no upstream, and counts as no failure', async () => {
    const { legacy, v2, fx } = await setup();
    const { c, r } = await send(fx, 'OPTIONS * HTTP/1.1\r\nHost: bank.example\r\n\r\n');
    expect(r.status).toBe(204);
    expect(r.headers.allow).toContain('GET');
    // The connection stays usable.
    c.write('GET /members/M-1 HTTP/1.1\r\nHost: bank.example\r\n\r\n');
    expect((await c.response()).status).toBe(200);
    expect(legacy.seen.map((s) => s.url)).toEqual(['/members/M-1']);
    await waitFor(() => v2.seen.length === 1, 10_000);
    const routes = await statsOf(fx);
    for (const name of Object.keys(routes)) {
      expect(routes[name].served.legacy.s5xx, name).toBe(0);
      expect(routes[name].served.v2.s5xx, name).toBe(0);
    }
  });
});

describe('header blocks', () => {
  it('two Host fields: 400, nothing forwarded', async () => {
    const { legacy, v2, fx } = await setup();
    const { r } = await send(fx, 'GET /members/M-1 HTTP/1.1\r\nHost: bank.example\r\nhost: other.example\r\n\r\n');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe('CUTOVER_ERR_DUPLICATE_HOST');
    expect(legacy.seen.length + v2.seen.length).toBe(0);
  });

  it('up to limits.maxHeaders fields are all forwarded; one more is a 431, never a silent drop', async () => {
    const { legacy, fx } = await setup('limits: { maxHeaders: 40 }');
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v${i}\r\n`).join('');
    // Host + 39 fields = 40: accepted, every field arrives.
    const ok = await send(fx, `GET /members/M-1 HTTP/1.1\r\nHost: bank.example\r\n${fields(39)}\r\n`);
    expect(ok.r.status).toBe(200);
    expect(legacy.seen[0].headers['x-f38']).toBe('v38');
    // 41: refused whole.
    const over = await send(fx, `GET /members/M-2 HTTP/1.1\r\nHost: bank.example\r\n${fields(40)}\r\n`);
    expect(over.r.status).toBe(431);
    expect(JSON.parse(over.r.body).error.code).toBe('CUTOVER_ERR_TOO_MANY_HEADERS');
    expect(legacy.seen).toHaveLength(1);
  });

  it('past node’s own default of 1000 fields, still a 431 rather than a silent drop', async () => {
    const { legacy, fx } = await setup();
    const fields = Array.from({ length: 1100 }, (_, i) => `a${i}: 1\r\n`).join('');
    const { r } = await send(fx, `GET /members/M-1 HTTP/1.1\r\nHost: b\r\n${fields}\r\n`);
    expect(r.status).toBe(431);
    expect(legacy.seen).toHaveLength(0);
  });

  it('Proxy-Authorization reaches neither legacy nor the V2 copy, nor the captured pair', async () => {
    const { legacy, v2, fx } = await setup();
    const { r } = await send(fx, 'GET /members/M-1 HTTP/1.1\r\nHost: bank.example\r\nProxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\nAuthorization: Bearer t\r\n\r\n');
    expect(r.status).toBe(200);
    await waitFor(() => v2.seen.length === 1 && fx.proxy.queue!.size === 1, 10_000);
    expect(legacy.seen[0].headers['proxy-authorization']).toBeUndefined();
    expect(v2.seen[0].headers['proxy-authorization']).toBeUndefined();
    // The end-to-end credential is forwarded as before.
    expect(legacy.seen[0].headers.authorization).toBe('Bearer t');
    const [pair] = fx.proxy.queue!.take();
    expect(JSON.stringify(pair)).not.toContain('c2VjcmV0');
  });
});
