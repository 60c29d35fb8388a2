/**
 * `npm run bench:mirror-large`: proxy memory with large answers (performance.md: proxy RSS
 * <= 300 MB with 2 MB answers at any rate). Legacy and V2 origins answer every request with a
 * ~2 MB JSON statement (the same facts, keys in another order); cutover's proxy, run as a user
 * runs it (`node bin/cutover.js proxy`: dist/, no tsx loader; as
 * shipped: mirror 100 %, maxInFlight 512, the verifier diffing in its worker) is driven at max
 * rate by autocannon for `--seconds` (default 60). Its VmRSS is read from /proc every 250 ms.
 * Printed: requests, client errors, RSS start/peak/end, pairs offered and dropped (all reasons,
 * and those dropped because captured bodies reached limits.mirrorCaptureBytes), the capture
 * budget's peak.
 *
 * Options: --seconds N, --quick (15 s), --max-body-bytes N (the route's maxBodyBytes; default
 * the config default, 1 MiB), --connections N (default 50), --out FILE
 * (default reports/bench/mirror-large.json).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { PIN, ROOT, startScript, startShippedProxy } from './harness.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const QUICK = argv.includes('--quick');
const SECONDS = Number(opt('seconds', QUICK ? '15' : '60'));
const CONNECTIONS = Number(opt('connections', '50'));
const MAX_BODY = opt('max-body-bytes', '');
const CAPTURE_BYTES = opt('capture-bytes', '');
const OUT = resolve(ROOT, opt('out', 'reports/bench/mirror-large.json'));
const PEAK_RSS_TARGET_MB = 300;
for (const [name, v] of [['seconds', SECONDS], ['connections', CONNECTIONS]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
}

interface Health {
  pairsDropped?: number;
  pairsDroppedMemory?: number;
  captureBytes?: { held: number; peak: number; limit: number };
  verifier?: { offered: number; accepted: number; verified: number; dropped: { queueFull: number } } | null;
}

const children: ChildProcess[] = [];
try {
  const legacy = await startScript('large-origin.ts', ['--name', 'legacy'], 1);
  const v2 = await startScript('large-origin.ts', ['--name', 'v2'], 1);
  children.push(legacy.proc, v2.proc);
  const dir = mkdtempSync(join(tmpdir(), 'cutover-mirror-large-'));
  const configFile = join(dir, 'cutover.yaml');
  writeFileSync(
    configFile,
    `upstreams: { legacy: http://127.0.0.1:${legacy.port}, v2: http://127.0.0.1:${v2.port} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }${CAPTURE_BYTES === '' ? '' : `\nlimits: { mirrorCaptureBytes: ${Number(CAPTURE_BYTES)} }`}
state: file://${join(dir, 'state.json')}
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    mirror: { sample: 100, maxInFlight: 512 }${MAX_BODY === '' ? '' : `\n    maxBodyBytes: ${Number(MAX_BODY)}`}
`,
  );
  const proxy = await startShippedProxy(configFile, 0);
  if (process.env.MEMLOG) proxy.proc.stderr!.on('data', (d) => process.stderr.write(d));
  children.push(proxy.proc);
  const pid = proxy.proc.pid!;
  const samples: number[] = [rssMb(pid)];
  const timer = setInterval(() => samples.push(rssMb(pid)), 250);
  const result = await autocannon({
    url: `http://127.0.0.1:${proxy.port}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ method: 'GET', path: '/accounts/ACC-000123/balance' }],
  });
  clearInterval(timer);
  samples.push(rssMb(pid));
  const health = (await (await fetch(`${proxy.admin}/healthz`)).json()) as Health;
  const figures = {
    seconds: SECONDS,
    connections: CONNECTIONS,
    answerBytes: legacy.bytes,
    maxBodyBytes: MAX_BODY === '' ? 'default (1 MiB)' : Number(MAX_BODY),
    pinned: PIN,
    requests: result.requests.total,
    rps: Math.round(result.requests.total / SECONDS),
    non2xx: result.non2xx,
    errors: result.errors,
    rssMb: { start: samples[0], peak: Math.max(...samples), end: samples[samples.length - 1] },
    pairs: {
      offered: health.verifier?.offered ?? null,
      verified: health.verifier?.verified ?? null,
      dropped: health.pairsDropped ?? null,
      droppedForMemory: health.pairsDroppedMemory ?? null,
      verifierQueueFull: health.verifier?.dropped.queueFull ?? null,
    },
    captureBudget: health.captureBytes ?? null,
    target: { peakRssMb: PEAK_RSS_TARGET_MB, met: Math.max(...samples) <= PEAK_RSS_TARGET_MB },
  };
  process.stdout.write(
    `mirror-large: ${SECONDS} s max rate, ${CONNECTIONS} connections, ${legacy.bytes} B answers, maxBodyBytes ${figures.maxBodyBytes}\n` +
      `  ${figures.requests} requests (${figures.rps}/s), non2xx ${figures.non2xx}, errors ${figures.errors}\n` +
      `  proxy RSS start ${figures.rssMb.start} MB, peak ${figures.rssMb.peak} MB, end ${figures.rssMb.end} MB (target <= ${PEAK_RSS_TARGET_MB}: ${figures.target.met ? 'met' : 'NOT met'})\n` +
      `  pairs: verified ${figures.pairs.verified}, dropped ${figures.pairs.dropped} (for memory ${figures.pairs.droppedForMemory}, verifier queue full ${figures.pairs.verifierQueueFull})\n` +
      `  capture budget: peak ${figures.captureBudget ? Math.round(figures.captureBudget.peak / 1048576) : '?'} MiB of ${figures.captureBudget ? Math.round(figures.captureBudget.limit / 1048576) : '?'} MiB\n`,
  );
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify({ bench: 'mirror-large', at: new Date().toISOString(), ...figures }, null, 2) + '\n');
} finally {
  for (const c of children) c.kill('SIGTERM');
}
