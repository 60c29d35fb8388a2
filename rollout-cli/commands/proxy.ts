/**
 * `cutover proxy --config cutover.yaml`: validate the config (exit 2 before binding anything),
 * start the data and admin planes, print one line per listener, and on SIGTERM/SIGINT stop
 * accepting, drain in-flight requests (bounded) and end with 0.
 */
import { waitForStop } from '../stop-signal.js';
import { loadConfig } from '../../shared/config.js';
import { startProxy } from '../../proxy/index.js';

export async function run(_args: string[], opts: Record<string, unknown>): Promise<number> {
  const file = typeof opts.config === 'string' ? opts.config : 'cutover.yaml';
  const config = loadConfig(file);
  const proxy = await startProxy({ config, waitForState: false });
  process.stdout.write(`data plane listening on ${proxy.dataUrl}\n`);
  process.stdout.write(`admin plane listening on ${proxy.adminUrl}\n`);
  proxy.ready.then(
    () => process.stdout.write(`ready: rollout state version ${proxy.applied()?.version ?? 0} applied (replica ${proxy.replicaId})\n`),
    () => undefined,
  );
  const signal = await waitForStop();
  process.stdout.write(`${signal}: draining in-flight requests\n`);
  await proxy.close();
  process.stdout.write('stopped\n');
  return 0;
}
