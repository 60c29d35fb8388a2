import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runCutover, spawnCutover, stopAll, tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin } from './origins.js';

afterAll(stopAll);

function configFile(text: string): { file: string; dir: string } {
  const dir = tempDir();
  const file = `${dir}/cutover.yaml`;
  writeFileSync(file, text);
  return { file, dir };
}

const good = (legacy: string, v2: string, dir: string, listen = 'listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }') => `
upstreams: { legacy: ${legacy}, v2: ${v2} }
${listen}
state: file://${dir}/state.json
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: legacy
`;

async function expectRefused(text: string, field: RegExp, env: NodeJS.ProcessEnv = {}) {
  const { file } = configFile(text.replaceAll('DIR', tempDir()));
  const r = await runCutover(['proxy', '--config', file], { env: { CUTOVER_ADMIN_TOKEN: '', ...env }, timeoutMs: 20_000 });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(field);
  expect(r.stdout).not.toMatch(/listening/);
}

describe('cutover proxy: refuses a bad config with exit 2 before binding any port', () => {
  const base = good('http://127.0.0.1:1', 'http://127.0.0.1:2', 'DIR');

  it('an out-of-range weight', async () => {
    await expectRefused(base.replace('mode: legacy', 'mode: canary\n    weight: 101'), /routes\[0\]\.weight: must be between 0 and 100/);
  });

  it('an unknown key', async () => {
    await expectRefused(base.replace('mode: legacy', 'mode: legacy\n    wieght: 1'), /routes\[0\]\.wieght: unknown key/);
  });

  it('a missing config file', async () => {
    const r = await runCutover(['proxy', '--config', `${tempDir()}/nope.yaml`], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--config: cannot read .*nope\.yaml: ENOENT/);
  });

  it('a non-loopback admin address without an admin token', async () => {
    await expectRefused(good('http://127.0.0.1:1', 'http://127.0.0.1:2', 'DIR', 'listen: { data: 127.0.0.1:0, admin: 0.0.0.0:0 }'), /listen\.admin: 0\.0\.0\.0:0 is not a loopback address and no admin token is configured/);
  });

  it('a data port already in use (names listen.data, leaves no admin port behind)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    const adminPort = await freePort();
    try {
      await expectRefused(
        good('http://127.0.0.1:1', 'http://127.0.0.1:2', 'DIR', `listen: { data: 127.0.0.1:${busy}, admin: 127.0.0.1:${adminPort} }`),
        /listen\.data: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/,
      );
      // the admin port it had bound was released
      const probe = createServer();
      await new Promise<void>((res, rej) => {
        probe.once('error', rej);
        probe.listen(adminPort, '127.0.0.1', () => res());
      });
      await new Promise((r) => probe.close(r));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});

describe('cutover proxy: runs, prints its listeners, drains on SIGTERM', () => {
  it('binds port 0, prints the real ports, serves, and drains an in-flight slow request on SIGTERM then exits 0', async () => {
    const legacy = await startOrigin('legacy', { delayMs: 1200 });
    const v2 = await startOrigin('v2');
    try {
      const { file } = configFile(good(legacy.url, v2.url, tempDir()));
      const proc = spawnCutover(['proxy', '--config', file], { env: { CUTOVER_LOG_LEVEL: 'warn' } });
      const [, dataUrl] = await proc.waitForOutput(/data plane listening on (http:\/\/127\.0\.0\.1:\d+)/, 20_000);
      const [, adminUrl] = await proc.waitForOutput(/admin plane listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(new URL(dataUrl).port).not.toBe('0');
      expect(new URL(adminUrl).port).not.toBe('0');
      await proc.waitForOutput(/ready: rollout state version 1 applied/);
      const inFlight = rawRequest(dataUrl, { path: '/accounts/A-1/balance' });
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      proc.child.kill('SIGTERM');
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString()).served).toBe('legacy');
      expect(await proc.exited).toBe(0);
      expect(Date.now() - t0).toBeGreaterThan(500);
      expect(proc.output()).toMatch(/SIGTERM: draining in-flight requests[\s\S]*stopped/);
      await expect(rawRequest(dataUrl, { path: '/accounts/A-1/balance' })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await legacy.close();
      await v2.close();
    }
  });
});
