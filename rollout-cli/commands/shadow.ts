/**
 * `cutover shadow --config cutover.yaml [--listen HOST:PORT]`: the target for requests another
 * data plane mirrors (nginx `mirror`, Envoy/Istio/Gateway API mirrors, GoReplay). Validates the
 * config (exit 2 before binding anything), prints one line per listener, and on SIGTERM/SIGINT
 * stops taking copies, lets the pairs in progress finish (bounded) and ends with 0.
 */
import { routeUpstreams, type UpstreamSpec } from '../../shared/upstreams.js';
import { loadConfig, type CutoverConfig } from '../../shared/config.js';
import { usageError } from '../errors.js';

/**
 * What the shadow calls: `calls legacy URL and v2 URL` when every route moves between the same two
 * services, else each distinct pair, `calls, per route: legacy URL -> statements-v2 URL; ...`.
 * A legacy side with a replica in use is called through it (`legacyReplica URL`).
 */
function callsLine(config: CutoverConfig, shadowLegacy: (c: CutoverConfig, u: UpstreamSpec) => { url: string; replica: boolean }): string {
  const pairs = new Map<string, [string, string]>();
  for (const route of [...config.routes, config.defaultRoute]) {
    const u = routeUpstreams(config, route);
    const legacy = shadowLegacy(config, u.legacy);
    const name = legacy.replica ? (u.legacy.name === 'legacy' ? 'legacyReplica' : `${u.legacy.name} legacyReplica`) : u.legacy.name;
    pairs.set(`${u.legacy.name} ${u.v2.name}`, [`${name} ${legacy.url}`, `${u.v2.name} ${u.v2.url}`]);
  }
  const all = [...pairs.values()];
  if (all.length === 1) return `calls ${all[0]![0]} and ${all[0]![1]}`;
  return `calls, per route: ${all.map(([l, v]) => `${l} -> ${v}`).join('; ')}`;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$/;

export async function run(_args: string[], opts: Record<string, unknown>): Promise<number> {
  const file = typeof opts.config === 'string' ? opts.config : 'cutover.yaml';
  const listen = typeof opts.listen === 'string' ? opts.listen : undefined;
  if (listen !== undefined && (!HOST_PORT.test(listen) || Number(listen.split(':').pop()) > 65535)) {
    throw usageError('--listen', `${listen} must be HOST:PORT (for example 127.0.0.1:8090)`);
  }
  const config = loadConfig(file);
  const { startShadow, shadowLegacy } = await import('../../shadow/index.js');
  const shadow = await startShadow({ config, listen, waitForState: false });
  process.stdout.write(`shadow target listening on ${shadow.shadowUrl} (${callsLine(config, shadowLegacy)})\n`);
  process.stdout.write(`admin plane listening on ${shadow.adminUrl}\n`);
  shadow.ready.then(
    () => process.stdout.write(`ready: rollout state version ${shadow.applied()?.version ?? 0} applied (replica ${shadow.replicaId})\n`),
    () => undefined,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.stdout.write(`${signal}: finishing the pairs in progress\n`);
  await shadow.close();
  process.stdout.write('stopped\n');
  return 0;
}
