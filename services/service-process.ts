/**
 * The entry of one demo service in its own OS process (started by `service-processes.ts`
 * through fork): reads its spec from CUTOVER_SERVICE_SPEC, builds its ledger replica from the
 * seed, writes postings through the parent's shared ledger, and tells the parent where it
 * listens. It stops on SIGTERM/SIGINT, and when the parent's channel closes (the parent died).
 */
import { Ledger } from './data/ledger.js';
import { accountId } from './data/dataset.js';
import { remoteWriter } from './ledger-link.js';
import { startService, type RunningService } from './start.js';

export interface ServiceProcessSpec {
  name: string;
  host: string;
  port: number;
  seed: number;
  faults: Record<string, unknown>;
  redisUrl?: string;
  requireApiKey?: boolean;
  /** Account histories generated before it says it listens (the first N accounts). */
  warmAccounts?: number;
}

export type FromServiceProcess = { t: 'listening'; name: string; url: string; port: number; pid: number } | { t: 'failed'; name: string; message: string; exitCode: number };

const tell = (msg: FromServiceProcess) => new Promise<void>((res) => (process.send ? process.send(msg, undefined, undefined, () => res()) : res()));

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.CUTOVER_SERVICE_SPEC ?? '{}') as ServiceProcessSpec;
  const ledger = new Ledger(spec.seed);
  let running: RunningService | undefined;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await running?.close().catch(() => undefined);
    if (process.connected) process.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('disconnect', () => void stop());
  try {
    for (let i = 1; i <= (spec.warmAccounts ?? 0); i++) ledger.balance(accountId(i));
    const port = spec.port;
    running = await startService(spec.name, {
      host: spec.host,
      legacyPort: port,
      v2Port: port,
      ledger,
      writer: remoteWriter(ledger),
      faultsOf: spec.faults,
      redisUrl: spec.redisUrl,
      v2: spec.requireApiKey === false ? { requireApiKey: false } : undefined,
    });
    await tell({ t: 'listening', name: spec.name, url: running.url, port: running.port, pid: process.pid });
  } catch (err) {
    const e = err as Error & { exitCode?: number };
    await tell({ t: 'failed', name: spec.name, message: e.message, exitCode: e.exitCode ?? 1 });
    process.exit(1);
  }
}

void main();
