/**
 * `cutover run plan.yaml`: drive a rollout plan with analysis and automatic rollback.
 * Exit 0 when the plan completes, 1 when it rolls back, is aborted or refused, 2 for a bad plan
 * or bad arguments. The work is in rollout-cli/plan/; this file only wires it up.
 */
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { DEFAULT_STATE_URL, loadConfig, type CutoverConfig } from '../../shared/config.js';
import { openStateStore } from '../../shared/state/index.js';
import { usageError } from '../errors.js';
import { drivePlan } from '../plan/driver.js';
import { openMetricsSource } from '../plan/metrics-source.js';
import { loadPlan, type Plan } from '../plan/schema.js';
import { resolvePlanServices } from '../plan/services.js';
import { routeSidesOf, sidesFromReplicas } from '../../shared/upstream-routes.js';
import { DEFAULT_STALE_MS } from '../../shared/state/acks.js';
import { makeReporter } from '../plan/view.js';
import { chooseNamedRoutes } from '../route-sets.js';

export interface RunOptions {
  state?: string;
  admin?: string;
  token?: string;
  config?: string;
  by?: string;
  dryRun?: boolean;
  json?: boolean;
}

function whoAmI(): string {
  let user = process.env.USER ?? '';
  try {
    user = user || userInfo().username;
  } catch {
    user = user || 'unknown';
  }
  return `${user}@${hostname()}`;
}

export async function run(args: string[], opts: RunOptions): Promise<number> {
  const file = args[0];
  if (!file) throw usageError('plan', 'give the plan file: cutover run plan.yaml');
  const plan = loadPlan(file);

  // Like the control verbs: an explicit --config must exist, the default one is optional; the
  // state comes from --state, else cutover.yaml, else the default file store.
  const configFile = opts.config ?? 'cutover.yaml';
  let config: Readonly<CutoverConfig> | undefined;
  if (existsSync(configFile)) config = loadConfig(configFile);
  else if (configFile !== 'cutover.yaml') throw usageError('--config', `${configFile} does not exist`);
  const stateUrl = opts.state ?? config?.state ?? DEFAULT_STATE_URL;
  if (opts.admin !== undefined && !/^https?:\/\/\S+$/.test(opts.admin)) throw usageError('--admin', `must be a proxy's admin URL like http://127.0.0.1:8081 (got ${opts.admin})`);
  const token = opts.token ?? process.env.CUTOVER_ADMIN_TOKEN ?? config?.adminToken;
  const holder = `${opts.by ?? whoAmI()} (pid ${process.pid})`;

  const store = openStateStore(stateUrl);
  // Services (`upstreams:`) resolve to their routes before anything runs: cutover.yaml says
  // which routes each serves, else the live replicas' heartbeats do.
  let sides = config ? routeSidesOf(config) : undefined;
  let resolved: Readonly<Plan>;
  try {
    sides ??= sidesFromReplicas(await store.replicas().then((list) => list.filter((r) => Date.now() - Date.parse(r.lastSeen) <= DEFAULT_STALE_MS)).catch(() => []));
    resolved = resolvePlanServices(plan, sides);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const reporter = makeReporter({ json: !!opts.json, stream: process.stdout });
  const stopper = new AbortController();
  const onSignal = () => stopper.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const source = openMetricsSource(resolved.analysis.metricsSource, { store, adminUrls: opts.admin ? [opts.admin] : resolved.admin, token });
    // A plan without routes: drives the config's named routes (not `default`, not write-only routes that never mirror).
    const implicitRoutes = (names: readonly string[]) => chooseNamedRoutes(names, config, { unsafeHint: "name it in the plan's routes: to drive it" });
    return await drivePlan({ plan: resolved, store, source, reporter, holder, dryRun: !!opts.dryRun, signal: stopper.signal, implicitRoutes, ...(sides ? { sides } : {}) });
  } finally {
    reporter.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close().catch(() => undefined);
  }
}
