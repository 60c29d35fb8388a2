/**
 * `cutover services`: runs the demo services until SIGINT/SIGTERM. By default legacy (the
 * monolith, every endpoint) and the V2 services by concern, each its own OS process sharing
 * one ledger through this one; `--layout single` is legacy and one V2 with every endpoint in
 * this process; `--only NAME` one service alone in this process. Prints one line per service
 * with the URL it listens on.
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
  layout?: string;
  fault?: string[];
}

function port(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw usageError(flag, `must be a port number 0..65535 (0 picks a free port), got "${raw}"`);
  return Number(raw);
}

interface Started {
  services: ReadonlyArray<{ name: string; url: string; endpoints: readonly string[] }>;
  redisReady?: boolean;
  close(): Promise<void>;
}

export async function run(_args: string[], opts: ServicesOpts): Promise<number> {
  const svc = await import('../../services/index.js');
  const host = opts.host ?? '127.0.0.1';
  if (host.trim() === '') throw usageError('--host', 'must be an address to bind, such as 127.0.0.1');
  const legacyPort = port('--legacy-port', opts.legacyPort, svc.DEFAULT_LEGACY_PORT);
  const v2Port = port('--v2-port', opts.v2Port, svc.DEFAULT_V2_PORT);
  let seed = svc.DEFAULT_SEED;
  if (opts.seed !== undefined) {
    if (!/^\d{1,10}$/.test(opts.seed) || Number(opts.seed) > 0xffffffff) throw usageError('--seed', `must be a whole number 0..4294967295, got "${opts.seed}"`);
    seed = Number(opts.seed);
  }
  const layoutName = opts.layout ?? 'split';
  if (layoutName !== 'split' && layoutName !== 'single') throw usageError('--layout', `must be split (legacy and the V2 services by concern) or single (legacy and one V2), got "${opts.layout}"`);
  const only = opts.only === undefined ? undefined : svc.serviceNamed(opts.only);
  if (opts.only !== undefined && !only) throw usageError('--only', `must be legacy or v2 or a V2 service by concern (${svc.V2_SERVICES.map((s) => s.name).join(', ')}), got "${opts.only}"`);
  if (opts.redis !== undefined && !/^rediss?:\/\/\S+$/.test(opts.redis)) throw usageError('--redis', `must be a redis://HOST:PORT/DB URL, got "${opts.redis}"`);
  const layout = only ? [only] : layoutName === 'single' ? svc.SINGLE_LAYOUT : svc.SPLIT_LAYOUT;
  // every knob of every service is checked before anything listens, and reported together
  const faults = svc.faultsByService(opts.fault ?? [], layout);

  let running: Started;
  if (layoutName === 'split' && !only) {
    running = await svc.startServiceProcesses({ host, legacyPort, v2Port, seed, redisUrl: opts.redis, faults, layout });
  } else if (only) {
    const s = await svc.startService(only.name, { host, legacyPort, v2Port, seed, redisUrl: opts.redis, faultsOf: faults[only.name] });
    running = { services: [{ ...s, endpoints: only.endpoints }], redisReady: redisReady(s), close: () => s.close() };
  } else {
    const both = await svc.startServices({ host, legacyPort, v2Port, seed, redisUrl: opts.redis, faults: { legacy: faults.legacy, v2: faults.v2 } });
    running = {
      services: [
        { ...both.legacy, endpoints: svc.ENDPOINT_NAMES },
        { ...both.v2, endpoints: svc.ENDPOINT_NAMES },
      ],
      redisReady: redisReady(both.v2),
      close: () => both.close(),
    };
  }

  const split = running.services.some((s) => s.name !== 'legacy' && s.name !== 'v2');
  for (const s of running.services) {
    const serves = split && s.name !== 'legacy' ? `   (${s.endpoints.join(', ')})` : '';
    process.stdout.write(`${s.name} listening on ${s.url}${serves}\n`);
  }
  const hasV2 = running.services.some((s) => s.name !== 'legacy');
  const notes = [`seed ${seed}`];
  if (split && running.services.length > 2) notes.push('one ledger shared by every service');
  if (hasV2) notes.push(`V2 callers send x-api-key: demo-key-full (docs/services.md lists the demo keys)`);
  if (hasV2 && opts.redis && running.redisReady !== undefined) notes.push(`redis ${running.redisReady ? 'connected' : 'not reachable yet: using local limits and cache'}`);
  if ((opts.fault ?? []).length > 0) notes.push(`faults: ${(opts.fault ?? []).join(' ')}`);
  const n = running.services.length;
  process.stdout.write(`${notes.join('; ')}\nCtrl-C stops ${n === 1 ? 'it' : n === 2 ? 'both' : `all ${n}`}.\n`);

  const signal = await waitForStop();
  await running.close();
  process.stdout.write(`stopped (${signal})\n`);
  return 0;
}

function redisReady(s: { service: unknown }): boolean | undefined {
  const redis = (s.service as { redis?: { status: string } }).redis;
  return redis === undefined ? undefined : redis.status === 'ready';
}
