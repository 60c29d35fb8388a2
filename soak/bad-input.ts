/**
 * The bad-input sweep: malformed and oversized config, plan and admin API bodies; client-sent
 * x-cutover-* headers; requests with both Content-Length and Transfer-Encoding; path traversal.
 * Every case is recorded with its status (exit code or HTTP status) and message, and the state
 * version is read before and after: no case may move it.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runCutover } from '../test/helpers/processes.js';
import { ADMIN_TOKEN, API_KEY, type SoakCluster } from './cluster.js';
import { replicaState, serviceCounts } from './observe.js';

export interface BadInputCase {
  group: 'config' | 'plan' | 'admin-api' | 'headers' | 'smuggling' | 'traversal';
  name: string;
  expected: string;
  status: number | string;
  message: string;
  versionBefore: number | null;
  versionAfter: number | null;
  ok: boolean;
}

const short = (s: string, n = 240) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s).trim();

async function version(cluster: SoakCluster): Promise<number | null> {
  return (await replicaState(cluster.proxies[0].id, cluster.proxies[0].adminUrl)).version;
}

/** Sends raw bytes and returns the first response line plus the body's start. */
function rawRequest(port: number, text: string): Promise<{ status: number; message: string }> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = () => {
      sock.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(buf);
      resolve({ status: m ? Number(m[1]) : 0, message: short(buf.split('\r\n\r\n')[1] ?? buf.split('\r\n')[0] ?? '') || short(buf.split('\r\n')[0] ?? '') });
    };
    sock.setTimeout(3000, done);
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('end', done);
    sock.on('error', done);
    sock.on('connect', () => sock.write(text));
  });
}

export async function badInputSweep(cluster: SoakCluster): Promise<BadInputCase[]> {
  const cases: BadInputCase[] = [];
  const admin = cluster.proxies[0].adminUrl;
  const data = cluster.proxies[0].dataUrl;
  const dir = cluster.dir;

  async function record(group: BadInputCase['group'], name: string, expected: string, fn: () => Promise<{ status: number | string; message: string; ok: boolean }>) {
    const before = await version(cluster);
    let r: { status: number | string; message: string; ok: boolean };
    try {
      r = await fn();
    } catch (err) {
      r = { status: 'threw', message: (err as Error).message, ok: false };
    }
    const after = await version(cluster);
    cases.push({ group, name, expected, status: r.status, message: short(r.message), versionBefore: before, versionAfter: after, ok: r.ok && before === after && before !== null });
  }

  // --- config: `cutover proxy --config` must exit 2 before binding (state is a private file, never the shared store)
  const stateFile = `file://${join(dir, 'bad-config-state.json')}`;
  const good = `upstreams: { legacy: ${cluster.legacy.url}, v2: ${cluster.v2.url} }\nlisten: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }\nstate: ${stateFile}\n`;
  const configs: Array<[string, string]> = [
    ['malformed YAML', `${good}routes: [ { name: x, match: { method: GET`],
    ['unknown top-level field', `${good}bogus: 1\n`],
    ['route mode not a mode', `${good}routes:\n  - { name: r, match: { method: GET, path: /a }, mode: sideways }\n`],
    ['weight over 100', `${good}routes:\n  - { name: r, match: { method: GET, path: /a }, mode: canary, weight: 150 }\n`],
    ['client-settable side header as a target', `${good}routes:\n  - { name: r, match: { method: GET, path: /a }, mode: canary, target: { v2: { header: { x-cutover-upstream: [v2] } } } }\n`],
    ['oversized (4 MB route name)', `${good}routes:\n  - { name: "${'x!'.repeat(2 * 1024 * 1024)}", match: { method: GET, path: /a } }\n`],
    ['upstream not a URL', `upstreams: { legacy: "not a url", v2: ${cluster.v2.url} }\nstate: ${stateFile}\n`],
  ];
  for (const [name, text] of configs) {
    await record('config', name, 'exit 2 naming the field', async () => {
      const f = join(dir, `bad-config-${cases.length}.yaml`);
      writeFileSync(f, text);
      const r = await runCutover(['proxy', '--config', f], { timeoutMs: 20_000 });
      return { status: r.code, message: r.stderr || r.stdout, ok: r.code === 2 };
    });
  }

  // --- plans: `cutover run --dry-run` must exit 2 on a bad plan, before touching the store
  const plans: Array<[string, string]> = [
    ['malformed YAML', 'steps: [ { weight: 1'],
    ['unknown step kind', 'steps:\n  - jump: 50\n'],
    ['weight over 100', 'steps:\n  - weight: 150\n'],
    ['negative hold', 'steps:\n  - weight: 5\n    hold: -5m\n'],
    ['oversized (4 MB)', `steps:\n  - weight: 1\n    hold: "${'9'.repeat(4 * 1024 * 1024)}m"\n`],
  ];
  for (const [name, text] of plans) {
    await record('plan', name, 'exit 2 naming the field', async () => {
      const f = join(dir, `bad-plan-${cases.length}.yaml`);
      writeFileSync(f, text);
      const r = await runCutover(['run', f, '--state', cluster.redisUrl, '--dry-run'], { timeoutMs: 20_000 });
      return { status: r.code, message: r.stderr || r.stdout, ok: r.code === 2 };
    });
  }

  // --- admin API bodies
  const call = async (method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) => {
    const r = await fetch(`${admin}${path}`, { method, body, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers } });
    const text = await r.text();
    let message = text;
    try {
      message = JSON.parse(text).error?.message ?? text;
    } catch {
      /* keep the text */
    }
    return { status: r.status, message };
  };
  const current = (await fetch(`${admin}/admin/state`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.json())) as { state: Record<string, unknown> };
  const { version: _v, ...stateDoc } = current.state as Record<string, unknown>;
  const adminCases: Array<[string, string, string, string | undefined, Record<string, string>, number[]]> = [
    ['change without token', 'POST', '/admin/change', '{"action":"pause"}', { authorization: '' }, [401]],
    ['change with a wrong token', 'POST', '/admin/change', '{"action":"pause"}', { authorization: 'Bearer wrong-token-wrong-token' }, [401, 403]],
    ['malformed JSON', 'POST', '/admin/change', '{"action":', {}, [400]],
    ['unknown action', 'POST', '/admin/change', '{"action":"explode"}', {}, [400]],
    ['weight over 100', 'POST', '/admin/change', '{"action":"set-weight","route":"member","weight":150}', {}, [400]],
    ['weight with three decimals', 'POST', '/admin/change', '{"action":"set-weight","route":"member","weight":"10.001"}', {}, [400]],
    ['unknown route', 'POST', '/admin/change', '{"action":"set-weight","route":"nope","weight":5}', {}, [400, 404]],
    ['unknown field', 'POST', '/admin/change', '{"action":"pause","evil":true}', {}, [400]],
    ['body an array', 'POST', '/admin/change', '[1,2,3]', {}, [400]],
    ['oversized body (2 MB)', 'POST', '/admin/change', JSON.stringify({ action: 'pause', pad: 'x'.repeat(2 * 1024 * 1024) }), {}, [400, 413]],
    ['wrong content-type', 'POST', '/admin/change', 'action=pause', { 'content-type': 'text/plain' }, [400, 415]],
    ['abort without a reason', 'POST', '/admin/abort', '{}', {}, [400]],
    ['state write without expectedVersion', 'PUT', '/admin/state', JSON.stringify({ state: stateDoc, meta: { by: 'soak', action: 'x' } }), {}, [400]],
    ['state write with a stale expectedVersion', 'PUT', '/admin/state', JSON.stringify({ expectedVersion: 0, state: stateDoc, meta: { by: 'soak', action: 'x' } }), {}, [409]],
    ['state write with a bad document', 'PUT', '/admin/state', JSON.stringify({ expectedVersion: 1, state: { routes: 'all' }, meta: { by: 'soak', action: 'x' } }), {}, [400]],
    ['stats window not a duration', 'GET', '/admin/stats?window=forever', undefined, {}, [400]],
  ];
  for (const [name, method, path, body, headers, ok] of adminCases) {
    await record('admin-api', name, `HTTP ${ok.join(' or ')}`, async () => {
      const r = await call(method, path, body, headers);
      return { ...r, ok: ok.includes(r.status) };
    });
  }

  // --- client-sent proxy headers steer nothing
  const sideOf = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${data}${path}`, { headers: { 'x-api-key': API_KEY, ...headers } });
    await r.arrayBuffer();
    return { status: r.status, upstream: r.headers.get('x-cutover-upstream') ?? '' };
  };
  let toLegacy: string | undefined;
  let toV2: string | undefined;
  for (let i = 1; i <= 60 && (!toLegacy || !toV2); i++) {
    const p = `/members/M-${String(i).padStart(6, '0')}`;
    const s = await sideOf(p);
    if (s.upstream === 'legacy') toLegacy ??= p;
    if (s.upstream === 'v2') toV2 ??= p;
  }
  await record('headers', `x-cutover-upstream: v2 on a canary key bucketed to legacy (${toLegacy})`, 'served by legacy', async () => {
    const s = await sideOf(toLegacy!, { 'x-cutover-upstream': 'v2' });
    return { status: s.status, message: `served by ${s.upstream}`, ok: s.upstream === 'legacy' };
  });
  await record('headers', `x-cutover-upstream: legacy on a canary key bucketed to V2 (${toV2})`, 'served by v2', async () => {
    const s = await sideOf(toV2!, { 'x-cutover-upstream': 'legacy' });
    return { status: s.status, message: `served by ${s.upstream}`, ok: s.upstream === 'v2' };
  });
  await record('headers', 'POST on a mirror route with x-cutover-upstream: v2 and x-cutover-shadow: 1', '201 from legacy; V2 sees no POST; no service sees x-cutover-shadow', async () => {
    const acct = (await fetch(`${cluster.legacy.url}/accounts/A-002999/balance`).then((x) => x.json())) as { currency: string };
    const v2a = await serviceCounts(cluster.v2.url);
    const la = await serviceCounts(cluster.legacy.url);
    const r = await fetch(`${data}/transactions`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json', 'idempotency-key': `soak-header-trick-${Date.now()}`, 'x-cutover-upstream': 'v2', 'x-cutover-shadow': '1' },
      body: JSON.stringify({ accountId: 'A-002999', type: 'credit', amount: acct.currency === 'JPY' ? '1' : '0.01', currency: acct.currency }),
    });
    await r.arrayBuffer();
    await new Promise((res) => setTimeout(res, 300));
    const v2b = await serviceCounts(cluster.v2.url);
    const lb = await serviceCounts(cluster.legacy.url);
    const up = r.headers.get('x-cutover-upstream');
    const v2Posts = (v2b?.posts ?? 0) - (v2a?.posts ?? 0);
    const shadowSeen = (lb?.shadowTotal ?? 0) - (la?.shadowTotal ?? 0) + ((v2b?.shadowTotal ?? 0) - (v2a?.shadowTotal ?? 0));
    return { status: r.status, message: `served by ${up}; V2 POSTs +${v2Posts}; x-cutover-shadow seen +${shadowSeen}`, ok: r.status === 201 && up === 'legacy' && v2Posts === 0 && shadowSeen === 0 };
  });
  await record('headers', 'GET on a mirror route with x-cutover-shadow: 1', 'legacy and V2 copy both arrive without x-cutover-shadow', async () => {
    const la = await serviceCounts(cluster.legacy.url);
    const va = await serviceCounts(cluster.v2.url);
    const s = await sideOf('/accounts/A-000010/balance', { 'x-cutover-shadow': '1' });
    await new Promise((res) => setTimeout(res, 300));
    const lb = await serviceCounts(cluster.legacy.url);
    const vb = await serviceCounts(cluster.v2.url);
    const seen = (lb!.shadowTotal - la!.shadowTotal) + (vb!.shadowTotal - va!.shadowTotal);
    return { status: s.status, message: `served by ${s.upstream}; x-cutover-shadow seen +${seen}`, ok: s.upstream === 'legacy' && seen === 0 };
  });

  // --- request smuggling shapes: both Content-Length and Transfer-Encoding
  const smuggle = (host: string) =>
    `POST /transactions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /accounts/A-000001/balance HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  await record('smuggling', 'data plane: Content-Length and Transfer-Encoding together', 'HTTP 400, connection closed', async () => {
    const r = await rawRequest(cluster.proxies[0].dataPort, smuggle('x'));
    return { ...r, ok: r.status === 400 };
  });
  await record('smuggling', 'admin plane: Content-Length and Transfer-Encoding together', 'HTTP 400', async () => {
    const r = await rawRequest(cluster.proxies[0].adminPort, `POST /admin/change HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 18\r\nTransfer-Encoding: chunked\r\n\r\n12\r\n{"action":"pause"}\r\n0\r\n\r\n`);
    return { ...r, ok: r.status === 400 };
  });
  await record('smuggling', 'data plane: duplicated Content-Length', 'HTTP 400', async () => {
    const r = await rawRequest(cluster.proxies[0].dataPort, 'POST /transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}');
    return { ...r, ok: r.status === 400 };
  });

  // --- path traversal in route matching: refused, never served by another route or the services' admin
  const paths = [
    '/accounts/../_admin/faults',
    '/accounts/%2e%2e/%2e%2e/_admin/requests',
    '/accounts/A-000001/balance/../../../members/M-000001',
    '/accounts/..%2f_admin%2fpostings/balance',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/members/..%5c..%5c_admin',
  ];
  for (const p of paths) {
    await record('traversal', p, 'HTTP 4xx, no other route served', async () => {
      const r = await rawRequest(cluster.proxies[0].dataPort, `GET ${p} HTTP/1.1\r\nHost: x\r\nx-api-key: ${API_KEY}\r\nConnection: close\r\n\r\n`);
      return { ...r, ok: r.status >= 400 && r.status < 500 };
    });
  }
  return cases;
}
