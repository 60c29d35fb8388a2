/**
 * Starting the demo services each in its own OS process (the split layout: legacy plus the V2
 * services by concern), with one ledger shared through this process (`ledger-link.ts`).
 * Ports: legacy on legacyPort, the V2 services on consecutive ports from v2Port (0: free ports).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../shared/errors.js';
import { SVC_ERR } from './errors.js';
import { Ledger } from './data/ledger.js';
import { LedgerWriterHub } from './ledger-link.js';
import { SPLIT_LAYOUT, type ServiceDef } from './catalogue.js';
import { DEFAULT_HOST, DEFAULT_LEGACY_PORT, DEFAULT_SEED, DEFAULT_V2_PORT } from './start.js';
import type { FromServiceProcess, ServiceProcessSpec } from './service-process.js';

export interface ServiceProcessesOptions {
  host?: string;
  legacyPort?: number;
  /** The first V2 service's port; the next ones follow (0: free ports). */
  v2Port?: number;
  seed?: number;
  redisUrl?: string;
  /** Initial fault knobs by service name (`faultsByService` builds them from `--fault`). */
  faults?: Record<string, Record<string, unknown>>;
  /** Default: legacy plus the four V2 services by concern. */
  layout?: readonly ServiceDef[];
  /** Account histories each service generates before it reports ready. */
  warmAccounts?: number;
  /** false turns V2 caller authentication off. */
  requireApiKey?: boolean;
  /** How long a service may take to listen, ms (default 30 s). */
  startTimeoutMs?: number;
}

export interface ServiceProcess extends ServiceDef {
  url: string;
  port: number;
  pid: number;
}

export interface RunningServiceProcesses {
  /** In layout order: legacy first. */
  services: readonly ServiceProcess[];
  byName(name: string): ServiceProcess;
  /** The ledger every posting is decided in (the services read their replicas of it). */
  ledger: Ledger;
  close(): Promise<void>;
}

/** This module's sibling entry: compiled JS in dist/, or the TypeScript source run through tsx. */
function entry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const ext = extname(self);
  return { file: join(dirname(self), `service-process${ext}`), execArgv: ext === '.ts' ? ['--import', 'tsx'] : [] };
}

function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      res();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
  });
}

export async function startServiceProcesses(o: ServiceProcessesOptions = {}): Promise<RunningServiceProcesses> {
  const layout = o.layout ?? SPLIT_LAYOUT;
  const seed = o.seed ?? DEFAULT_SEED;
  const host = o.host ?? DEFAULT_HOST;
  const legacyPort = o.legacyPort ?? DEFAULT_LEGACY_PORT;
  const v2Port = o.v2Port ?? DEFAULT_V2_PORT;
  const ledger = new Ledger(seed);
  const hub = new LedgerWriterHub(ledger);
  const { file, execArgv } = entry();
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => waitExit(c, 5000)));
    hub.close();
  };
  let v2Index = 0;
  const starts = layout.map((def) => {
    const port = def.kind === 'legacy' ? legacyPort : v2Port === 0 ? 0 : v2Port + v2Index++;
    const spec: ServiceProcessSpec = {
      name: def.name,
      host,
      port,
      seed,
      faults: o.faults?.[def.name] ?? {},
      redisUrl: def.kind === 'v2' ? o.redisUrl : undefined,
      requireApiKey: o.requireApiKey,
      warmAccounts: o.warmAccounts,
    };
    const child = fork(file, [], { execArgv, env: { ...process.env, CUTOVER_SERVICE_SPEC: JSON.stringify(spec) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    hub.attach(child);
    return new Promise<ServiceProcess>((resolve, reject) => {
      const timer = setTimeout(() => reject(new CutoverError(SVC_ERR.START, `${def.name} did not start within ${(o.startTimeoutMs ?? 30_000) / 1000} s`, { exitCode: 1 })), o.startTimeoutMs ?? 30_000);
      child.on('message', (raw) => {
        const msg = raw as FromServiceProcess;
        if (msg?.t === 'listening') {
          clearTimeout(timer);
          resolve({ ...def, url: msg.url, port: msg.port, pid: msg.pid });
        } else if (msg?.t === 'failed') {
          clearTimeout(timer);
          reject(new CutoverError(SVC_ERR.START, msg.message, { exitCode: msg.exitCode === 2 ? 2 : 1 }));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new CutoverError(SVC_ERR.START, `${def.name} exited before it listened (${signal ?? `exit ${code}`})`, { exitCode: 1 }));
      });
    });
  });
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  const services = settled.map((s) => (s as PromiseFulfilledResult<ServiceProcess>).value);
  return {
    services,
    ledger,
    byName(name) {
      const s = services.find((x) => x.name === name);
      if (!s) throw new Error(`no service ${name} (started: ${services.map((x) => x.name).join(', ')})`);
      return s;
    },
    close,
  };
}
