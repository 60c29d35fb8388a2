/**
 * `cutover shadow`: a target for requests mirrored by another data plane. It is the proxy with
 * its splitting data plane replaced by the shadow listener (listener.ts): the same route table,
 * Mirror, stats window, verifier pipeline, state agent (it registers as a replica, so an abort
 * waits for it), admin plane (/admin/stats, /admin/diffs, /metrics, /healthz, /readyz) and
 * metrics. `cutover run` and `cutover report` read it as they read a proxy.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { CutoverConfig } from '../shared/config.js';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../proxy/index.js';
import { buildShadowPlane, ShadowCounters, shadowLegacy, SKIP_REASONS, type QueueView } from './listener.js';

export { ShadowCounters, SKIP_REASONS, shadowLegacy } from './listener.js';
export { hostWithoutShadowSuffix, isMarkedCopy, effectiveMethod } from './copy-mark.js';

export interface StartShadowOptions extends Omit<StartProxyOptions, 'plane' | 'config'> {
  config: Readonly<CutoverConfig>;
  /** HOST:PORT to listen on instead of shadow.listen. */
  listen?: string;
}

export interface RunningShadow extends RunningProxy {
  /** Where mirrored requests go (same as dataUrl). */
  shadowUrl: string;
  counters: ShadowCounters;
  /** Pairs running and waiting now. */
  load(): { active: number; waiting: number };
}

export async function startShadow(opts: StartShadowOptions): Promise<RunningShadow> {
  const { config } = opts;
  const counters = new ShadowCounters();
  const queueRef: { current?: QueueView } = {};
  const load = () => ({ active: queueRef.current?.active ?? 0, waiting: queueRef.current?.waiting ?? 0 });
  const listen = opts.listen ?? config.shadow.listen;
  const proxy = await startProxy({
    ...opts,
    replicaId: opts.replicaId ?? config.replicaId ?? `shadow-${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
    plane: {
      build: (deps) => buildShadowPlane(deps, counters, queueRef),
      listen: { field: opts.listen ? '--listen' : 'shadow.listen', value: listen },
      noiseReplica: false,
      counters: [
        { name: 'cutover_shadow_received_total', help: 'Requests the shadow target received from the mirroring data plane.', read: () => counters.received },
        { name: 'cutover_shadow_accepted_total', help: 'Mirrored requests the shadow took for verification (answered 202).', read: () => counters.accepted },
        ...SKIP_REASONS.map((r) => ({
          name: `cutover_shadow_skipped_${r.replace(/-/g, '_')}_total`,
          help: `Mirrored requests not verified: ${r} (answered 204, or 4xx for bad-path and not-a-copy).`,
          read: () => counters.skipped[r],
        })),
      ],
      gauges: [
        { name: 'cutover_shadow_active', help: 'Mirrored pairs being verified now (legacy and V2 calls out).', read: () => load().active },
        { name: 'cutover_shadow_waiting', help: 'Mirrored requests waiting for a free place.', read: () => load().waiting },
      ],
      health: () => ({
        shadow: { legacy: shadowLegacy(config).replica ? 'replica' : 'primary', ...load(), received: counters.received, accepted: counters.accepted, skipped: { ...counters.skipped } },
      }),
    },
  });
  return Object.assign(proxy, { shadowUrl: proxy.dataUrl, counters, load });
}
