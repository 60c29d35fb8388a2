/** `cutover services` as a child process: prints where it listens, stops cleanly on signals. */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { runCutover, spawnCutover, stopAll } from '../helpers/processes.js';
import { getJson, mapLimit } from './helpers.js';

afterAll(async () => {
  await stopAll();
});

describe('cutover services', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`--layout single prints both URLs, serves on them, and exits 0 on ${signal}`, async () => {
      const p = spawnCutover(['services', '--layout', 'single', '--legacy-port', '0', '--v2-port', '0', '--seed', '7', '--fault', 'v2.latencyMs=1']);
      const l = await p.waitForOutput(/^legacy listening on (http:\/\/127\.0\.0\.1:\d+)$/m, 20_000);
      const v = await p.waitForOutput(/^v2 listening on (http:\/\/127\.0\.0\.1:\d+)$/m, 20_000);
      expect((await getJson(`${l[1]}/healthz`)).body).toMatchObject({ status: 'ok', service: 'legacy' });
      expect((await getJson(`${v[1]}/healthz`)).body).toMatchObject({ status: 'ok', service: 'v2' });
      expect((await getJson(`${v[1]}/_admin/faults`)).body.faults.latencyMs).toBe(1);
      expect((await getJson(`${l[1]}/_admin/faults`)).body.faults.latencyMs).toBe(0);
      expect(await p.stop(signal)).toBe(0);
      expect(p.output()).toContain(`stopped (${signal})`);
      await expect(fetch(`${l[1]}/healthz`)).rejects.toThrow();
    });
  }

  it('--only v2 starts V2 alone', async () => {
    const p = spawnCutover(['services', '--only', 'v2', '--v2-port', '0']);
    await p.waitForOutput(/^v2 listening on http/m, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.output()).not.toContain('legacy listening');
    expect(await p.stop('SIGTERM')).toBe(0);
  });

  it('--only statements-v2 starts that V2 service alone, serving only statements', async () => {
    const p = spawnCutover(['services', '--only', 'statements-v2', '--v2-port', '0', '--fault', 'statements-v2.latencyMs=2']);
    const m = await p.waitForOutput(/^statements-v2 listening on (http:\/\/127\.0\.0\.1:\d+)/m, 20_000);
    expect((await getJson(`${m[1]}/healthz`)).body).toMatchObject({ service: 'statements-v2', kind: 'v2' });
    expect((await getJson(`${m[1]}/_admin/faults`)).body).toMatchObject({ service: 'statements-v2', endpoints: ['statement'], faults: { latencyMs: 2 } });
    expect((await getJson(`${m[1]}/accounts/A-000010/statements/2025-06`, { 'x-api-key': 'demo-key-full' })).status).toBe(200);
    expect((await getJson(`${m[1]}/accounts/A-000001/balance`, { 'x-api-key': 'demo-key-full' })).status).toBe(404);
    expect(await p.stop('SIGTERM')).toBe(0);
  });

  it('bad flags exit 2 naming the flag, before anything listens', async () => {
    const cases: Array<[string[], string]> = [
      [['--legacy-port', 'abc'], '--legacy-port: must be a port number'],
      [['--v2-port', '70000'], '--v2-port: must be a port number'],
      [['--seed', 'x'], '--seed: must be a whole number'],
      [['--only', 'both'], '--only: must be legacy or v2 or a V2 service by concern (transactions-v2, statements-v2, wallets-v2, members-v2), got "both"'],
      [['--layout', 'triple'], '--layout: must be split'],
      [['--fault', 'nope.latencyMs=1'], 'no service nope'],
      [['--fault', 'members-v2.errorRate:wallet=0.1'], 'members-v2 does not serve wallet'],
      [['--redis', 'localhost:6379'], '--redis: must be a redis://'],
      [['--fault', 'bogus=1'], 'unknown fault knob bogus'],
      [['--fault', 'errorRate=2'], 'errorRate: must be a number between 0 and 1'],
      [['--fault', 'latencyMs'], 'must be NAME=VALUE'],
      [['--fault', 'legacy.dropField=x'], 'V2-only bug knob'],
      [['--layout', 'single', '--fault', 'bogus=1'], 'unknown fault knob bogus'],
    ];
    await mapLimit(cases, 3, async ([args, text]) => {
      const r = await runCutover(['services', '--legacy-port', '0', '--v2-port', '0', ...args], { timeoutMs: 20_000 });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
      expect(r.stdout).not.toContain('listening');
    });
  });

  it('a port in use exits 1 naming it and what to do', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', () => res()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCutover(['services', '--legacy-port', String(port), '--v2-port', '0'], { timeoutMs: 20_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(r.stderr).toContain('--legacy-port');
    } finally {
      blocker.close();
    }
  });
});
