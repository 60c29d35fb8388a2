/**
 * Shared pieces of the observability tests: origins that answer what a test asks for, a config
 * file, a real proxy process (the `cutover proxy` CLI) with its stderr kept as parsed JSON lines,
 * and a /metrics parser.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCutover, tempDir, type Spawned } from '../helpers/processes.js';
import { startOrigin, type Origin } from '../proxy/origins.js';

export { startOrigin, type Origin };

/** An origin whose answer is chosen per request by `status(path)` (JSON body naming the origin). */
export async function statusOrigin(name: string, status: (url: string) => number, body?: (url: string) => unknown): Promise<Origin> {
  const o = await startOrigin(name);
  o.respond = (seen, res) => {
    const s = status(seen.url);
    res.writeHead(s, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ? body(seen.url) : { served: name, balance: '100.25' }));
  };
  return o;
}

export function writeConfig(dir: string, yaml: string): string {
  const file = join(dir, 'cutover.yaml');
  writeFileSync(file, yaml);
  return file;
}

export interface ProxyProcess {
  proc: Spawned;
  dataUrl: string;
  adminUrl: string;
  /** stderr lines that parsed as JSON (the proxy's log). */
  logLines(): Array<Record<string, unknown>>;
  /** stderr lines that did not parse. */
  otherLines(): string[];
  stop(): Promise<number | string>;
}

function splitLog(stderr: string): { json: Array<Record<string, unknown>>; other: string[] } {
  const json: Array<Record<string, unknown>> = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    try {
      json.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      other.push(line);
    }
  }
  return { json, other };
}

/** `cutover proxy --config FILE` as a child process; resolves once the admin plane is ready. */
export async function startCliProxy(config: string, env: NodeJS.ProcessEnv = {}): Promise<ProxyProcess> {
  let stderr = '';
  const proc = spawnCutover(['proxy', '--config', config], { env });
  proc.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const data = await proc.waitForOutput(/data plane listening on (\S+)/);
  const admin = await proc.waitForOutput(/admin plane listening on (\S+)/);
  await proc.waitForOutput(/ready: rollout state version/);
  return wrap(proc, data[1]!, admin[1]!, () => stderr);
}

function wrap(proc: Spawned, dataUrl: string, adminUrl: string, stderr: () => string): ProxyProcess {
  return {
    proc,
    dataUrl,
    adminUrl,
    logLines: () => splitLog(stderr()).json,
    otherLines: () => splitLog(stderr()).other,
    stop: () => proc.stop('SIGTERM'),
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format -> samples (enough for our own output: no escapes inside label values but \" and \\). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).length >= Object.keys(labels).length);
  return s?.value;
}

export async function scrape(adminUrl: string): Promise<string> {
  const r = await fetch(`${adminUrl}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return r.text();
}

export { tempDir };
