/**
 * Killing a backgrounded `npx cutover services` (or `proxy`, `demo`) leaves nothing running:
 * npm's wrapper does not always pass the kill on, so a verb started through npm also stops when
 * the process that started it goes away. Here a shell stands in for npx (with npm's environment
 * variable set), starts the real built CLI in the background and is SIGKILLed; the services must
 * stop and free their ports. SIGHUP (a closed terminal) stops them too.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startedThroughNpm } from '../../rollout-cli/stop-signal.js';
import { alive, ROOT } from '../helpers/processes.js';

const portOpen = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => (s.destroy(), res(true)));
    s.on('error', () => res(false));
  });

async function until(cond: () => boolean | Promise<boolean>, what: string, boundMs = 30_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A shell that starts `cutover services` in the background, says its pid, and waits, like npx does. */
function wrapper(env: NodeJS.ProcessEnv) {
  const cli = `"${process.execPath}" "${join(ROOT, 'bin', 'cutover.js')}" services --legacy-port 0 --v2-port 0`;
  const sh = spawn('sh', ['-c', `${cli} & echo "child $!"; wait`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sh.stdout.on('data', (d) => (out += d));
  sh.stderr.on('data', (d) => (out += d));
  return { sh, output: () => out };
}

describe('stopping a backgrounded verb', () => {
  it('knows when npm started it', () => {
    expect(startedThroughNpm({ npm_command: 'exec' })).toBe(true);
    expect(startedThroughNpm({ npm_lifecycle_event: 'demo' })).toBe(true);
    expect(startedThroughNpm({})).toBe(false);
  });

  it('`services` started through npm stops, and frees its ports, when the npx that started it is killed', async () => {
    const { sh, output } = wrapper({ ...process.env, npm_command: 'exec' });
    await until(() => /Ctrl-C stops all 5/.test(output()), 'the services listening');
    const child = Number(/child (\d+)/.exec(output())![1]);
    const ports = [...output().matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    // legacy and the four V2 services by concern, each its own process
    expect(ports).toHaveLength(5);
    expect(alive(child)).toBe(true);
    sh.kill('SIGKILL');
    await until(() => !alive(child), `the orphaned services (pid ${child}) stopped; output:\n${output()}`);
    for (const p of ports) expect(await portOpen(p), `port ${p}`).toBe(false);
  });

  it('SIGHUP (a closed terminal) stops them like SIGTERM', async () => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'cutover.js'), 'services', '--legacy-port', '0', '--v2-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await until(() => /Ctrl-C stops all 5/.test(out), 'the services ready');
    p.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped (SIGHUP)');
  });
});
