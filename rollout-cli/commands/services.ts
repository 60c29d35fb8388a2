/**
 * `cutover services`: runs the demo legacy and V2 accounting services until SIGINT/SIGTERM.
 * Prints one line per service with the URL it listens on.
 */
import { waitForStop } from '../stop-signal.js';
import { usageError } from '../errors.js';

interface ServicesOpts {
  host?: string;
  legacyPort?: string;
  v2Port?: string;
  seed?: string;
  redis?: string;
  only?: string;
  fault?: string[];
}

function port(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw usageError(flag, `must be a port number 0..65535 (0 picks a free port), got "${raw}"`);
  return Number(raw);
}

export async function run(_args: string[], opts: ServicesOpts): Promise<number> {
  const { startService, startServices, splitFaultArgs, parseFaultMap, DEFAULT_LEGACY_PORT, DEFAULT_V2_PORT, DEFAULT_SEED } = await import(
    '../../services/index.js'
  );
  const host = opts.host ?? '127.0.0.1';
  if (host.trim() === '') throw usageError('--host', 'must be an address to bind, such as 127.0.0.1');
  const legacyPort = port('--legacy-port', opts.legacyPort, DEFAULT_LEGACY_PORT);
  const v2Port = port('--v2-port', opts.v2Port, DEFAULT_V2_PORT);
  let seed = DEFAULT_SEED;
  if (opts.seed !== undefined) {
    if (!/^\d{1,10}$/.test(opts.seed) || Number(opts.seed) > 0xffffffff) throw usageError('--seed', `must be a whole number 0..4294967295, got "${opts.seed}"`);
    seed = Number(opts.seed);
  }
  if (opts.only !== undefined && opts.only !== 'legacy' && opts.only !== 'v2') throw usageError('--only', `must be legacy or v2, got "${opts.only}"`);
  if (opts.redis !== undefined && !/^rediss?:\/\/\S+$/.test(opts.redis)) throw usageError('--redis', `must be a redis://HOST:PORT/DB URL, got "${opts.redis}"`);
  const faults = splitFaultArgs(opts.fault ?? []);
  // validate every knob of both services before anything listens, and report them together
  const problems: string[] = [];
  for (const svc of ['legacy', 'v2'] as const) {
    try {
      parseFaultMap(faults[svc], svc);
    } catch (err) {
      problems.push(`${svc}: ${(err as Error).message.replace(/^faults: /, '')}`);
    }
  }
  if (problems.length > 0) throw usageError('--fault', problems.join('\n  '));

  const common = { host, legacyPort, v2Port, seed, redisUrl: opts.redis, faults };
  const running =
    opts.only === undefined
      ? await startServices(common)
      : await startService(opts.only as 'legacy' | 'v2', common).then((s) => ({ [s.name]: s, close: () => s.close() }));

  const r = running as { legacy?: { url: string }; v2?: { url: string; service?: { redis?: { status: string } } } };
  if (r.legacy) process.stdout.write(`legacy listening on ${r.legacy.url}\n`);
  if (r.v2) process.stdout.write(`v2 listening on ${r.v2.url}\n`);
  const notes = [`seed ${seed}`];
  if (r.v2) notes.push(`V2 callers send x-api-key: demo-key-full (docs/services.md lists the demo keys)`);
  if (r.v2 && opts.redis) notes.push(`redis ${r.v2.service?.redis?.status === 'ready' ? 'connected' : 'not reachable yet: using local limits and cache'}`);
  const faultCount = Object.keys(faults.legacy).length + Object.keys(faults.v2).length;
  if (faultCount > 0) notes.push(`faults: ${(opts.fault ?? []).join(' ')}`);
  process.stdout.write(`${notes.join('; ')}\nCtrl-C stops both.\n`);

  const signal = await waitForStop();
  await running.close();
  process.stdout.write(`stopped (${signal})\n`);
  return 0;
}
