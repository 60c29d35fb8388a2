/**
 * A real nginx (Debian's) for tests: a non-daemon instance with its own prefix, temp dirs, pid
 * and error log (no root, nothing under /var), one worker, serving the given `http { }` body.
 * Started through processes.ts, so stopAll() stops it by PID.
 */
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, track, waitForHttp, type Spawned } from './processes.js';

/** nginx on PATH, else the usual Debian places; null when it is not installed. */
export function findNginx(): string | null {
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v nginx'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (onPath) return onPath;
  } catch {
    // not on PATH
  }
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((c) => existsSync(c)) ?? null;
}

export interface NginxHandle {
  proc: Spawned;
  prefix: string;
  /** The error log so far. */
  errorLog(): string;
  stop(): Promise<void>;
}

function nginxBinary(): string {
  const bin = findNginx();
  if (!bin) throw new Error('nginx is not installed (apt-get install nginx-light, or run .ci/run which installs it)');
  return bin;
}

/** `nginx -t` on `site` inside `http { }`: nginx's own verdict on the syntax and directives. */
export function checkNginxSite(site: string): { ok: boolean; output: string } {
  const { prefix, conf, errorLog } = writeConf(site);
  const r = spawnSync(nginxBinary(), ['-t', '-p', prefix, '-c', conf, '-e', errorLog], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function writeConf(site: string): { prefix: string; conf: string; errorLog: string } {
  const prefix = tempDir('cutover-nginx-');
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true });
  const errorLog = join(prefix, 'error.log');
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${errorLog} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
${site}
}
`,
  );
  return { prefix, conf, errorLog };
}

/** Start nginx with `site` inside `http { }`; resolves when `probeUrl` answers. */
export async function startNginx(site: string, probeUrl: string): Promise<NginxHandle> {
  const bin = nginxBinary();
  const { prefix, conf, errorLog } = writeConf(site);
  const proc = track(spawn(bin, ['-p', prefix, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const read = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : '');
  try {
    await Promise.race([
      waitForHttp(probeUrl, 15_000),
      proc.exited.then((code) => {
        throw new Error(`nginx exited (${code}): ${proc.output()}${read()}`);
      }),
    ]);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return {
    proc,
    prefix,
    errorLog: read,
    async stop() {
      // SIGQUIT: the master lets its worker finish and reaps it.
      await proc.stop('SIGQUIT');
    },
  };
}
