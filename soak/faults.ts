/**
 * The fault schedule: one fault at a time, each with a window before it, the fault itself,
 * recovery, and a window after it; what the suite observes around each is recorded in a
 * FaultRecord. The faults act on real processes (SIGSTOP, SIGTERM, SIGKILL, a restarted Redis)
 * and on V2's run-time fault knobs.
 */
import { runCutover } from '../test/helpers/processes.js';
import { ADMIN_TOKEN, CANARY_ROUTES, MIRROR_ROUTES, type SoakCluster } from './cluster.js';
import { faultChecks, type FaultRecord } from './invariants.js';
import type { LoadGenerator } from './load.js';
import {
  converged, proxyHeapMb, replicaState, rssMb, serviceCounts, shadowCounts, subShadow, zeroShadow, addShadow,
  type ReplicaView, type ServiceCounts, type ShadowCounts,
} from './observe.js';
import { phaseFigures } from './phases.js';
import { GARBAGE_MODES } from './garbage.js';
import { slowUploads } from './slow-uploads.js';

export interface Durations {
  warmupMs: number;
  beforeMs: number;
  faultMs: number;
  afterMs: number;
}

export const FULL: Durations = { warmupMs: 60_000, beforeMs: 5000, faultMs: 10_000, afterMs: 5000 };
export const QUICK: Durations = { warmupMs: 3000, beforeMs: 2000, faultMs: 2000, afterMs: 2000 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const FAULTS = [
  { id: 1, name: 'v2-hang', what: 'V2 accepts connections and never answers (SIGSTOP), then continues (SIGCONT)' },
  { id: 2, name: 'v2-5xx-then-garbage', what: 'V2 answers 503 (fault knob), then a stand-in on its port answers truncated JSON, HTML, a 10 MB body' },
  { id: 3, name: 'v2-refuses', what: 'V2 process stopped (connections refused), then restarted' },
  { id: 4, name: 'redis-outage', what: 'Redis SIGKILLed, then restarted empty on the same port' },
  { id: 5, name: 'replica-sigkill', what: 'proxy replica soak-2 SIGKILLed, then restarted' },
  { id: 6, name: 'abort-resume-ramp', what: 'cutover abort under load (acknowledged), cutover resume, ramp back 10 -> 25 -> 50 %' },
  { id: 7, name: 'noise-replica-gone', what: 'the legacyReplica (noise) upstream stopped, then restarted' },
  {
    id: 8,
    name: 'slow-uploads',
    what: 'on replica soak-1, clients trickle POST bodies a byte at a time (small ones and streamed 10 MB ones, more than legacy has connections) and 3 stop mid-body',
  },
] as const;

export type FaultId = (typeof FAULTS)[number]['id'];

/** V2's counters survive its restarts here: banked before each stop. */
class V2Bank {
  private banked: ServiceCounts = { posts: 0, postsShadow: 0, shadowTotal: 0, total: 0, appliedMoreThanOnce: 0, postingsTotal: 0, appliedByV2: 0, keysRequestedMoreThanOnce: 0 };
  constructor(private readonly cluster: SoakCluster) {}
  async bank(): Promise<void> {
    const c = await serviceCounts(this.cluster.v2.url);
    if (c) this.banked = sum(this.banked, c);
  }
  async total(): Promise<ServiceCounts> {
    const c = this.cluster.v2.proc ? await serviceCounts(this.cluster.v2.url) : undefined;
    return c ? sum(this.banked, c) : this.banked;
  }
}

function sum(a: ServiceCounts, b: ServiceCounts): ServiceCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as Array<keyof ServiceCounts>) out[k] = a[k] + b[k];
  return out;
}

export async function replicaViews(cluster: SoakCluster): Promise<ReplicaView[]> {
  return Promise.all(cluster.proxies.map((p) => replicaState(p.id, p.adminUrl)));
}

/** Polls every 50 ms until the replicas agree (or the limit passes); returns the views and how long it took. */
export async function waitConverged(cluster: SoakCluster, limitMs: number): Promise<{ views: ReplicaView[]; ms: number | null }> {
  const t0 = performance.now();
  for (;;) {
    const views = await replicaViews(cluster);
    if (converged(views)) return { views, ms: Math.round(performance.now() - t0) };
    if (performance.now() - t0 > limitMs) return { views, ms: null };
    await sleep(50);
  }
}

async function adminChange(cluster: SoakCluster, body: Record<string, unknown>): Promise<{ status: number; json: any }> {
  const r = await fetch(`${cluster.proxies[0].adminUrl}/admin/change`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ by: 'soak', reason: 'soak ramp back', ...body }),
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}

export class FaultRunner {
  readonly v2: V2Bank;
  /** Shadow counts each replica had when last read, and what replicas lost to restarts. */
  private shadowSeen = new Map<string, ShadowCounts>();

  constructor(
    private readonly cluster: SoakCluster,
    private readonly load: LoadGenerator,
    private readonly d: Durations,
  ) {
    this.v2 = new V2Bank(cluster);
  }

  /** Sum over replicas of shadow counts since the run began (a restarted replica's counts restart at 0). */
  private async shadowTotal(): Promise<ShadowCounts> {
    let total = zeroShadow();
    for (const p of this.cluster.proxies) {
      const now = p.proc ? await shadowCounts(p.adminUrl) : undefined;
      const prev = this.shadowSeen.get(p.id);
      if (now) this.shadowSeen.set(p.id, now);
      total = addShadow(total, now ?? prev ?? zeroShadow());
    }
    return total;
  }

  private lostShadow = zeroShadow();

  /** Read a replica's counters right before it is killed, so they stay in the totals. */
  private async bankShadow(id: string): Promise<void> {
    const p = this.cluster.proxies.find((x) => x.id === id)!;
    const now = (await shadowCounts(p.adminUrl)) ?? this.shadowSeen.get(id) ?? zeroShadow();
    this.lostShadow = addShadow(this.lostShadow, now);
    this.shadowSeen.delete(id);
  }

  async shadowSoFar(): Promise<ShadowCounts> {
    return addShadow(this.lostShadow, await this.shadowTotal());
  }

  async run(id: FaultId): Promise<FaultRecord> {
    const meta = FAULTS.find((f) => f.id === id)!;
    const { cluster, load, d } = this;
    const notes: string[] = [];
    const extra: Record<string, unknown> = {};
    const beforeStart = Math.max(0, load.now() - d.beforeMs);
    const shadow0 = await this.shadowSoFar();
    const v20 = await this.v2.total();
    const duringStart = load.now();
    let convergeMs: number | null = null;
    let views: ReplicaView[] = [];

    switch (id) {
      case 1: {
        cluster.v2.proc!.child.kill('SIGSTOP');
        await sleep(d.faultMs);
        cluster.v2.proc!.child.kill('SIGCONT');
        break;
      }
      case 2: {
        const patch = (body: unknown) =>
          fetch(`${cluster.v2.url}/_admin/faults`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await patch({ errorRate: 1, errorStatus: 503 });
        await sleep(d.faultMs);
        await fetch(`${cluster.v2.url}/_admin/faults`, { method: 'DELETE' });
        await this.v2.bank();
        await cluster.stopService(cluster.v2);
        const each = Math.max(1000, Math.round(d.faultMs / 2));
        for (const mode of GARBAGE_MODES) {
          await cluster.startGarbage(mode);
          await sleep(each);
          await cluster.stopGarbage();
        }
        await cluster.startService(cluster.v2);
        notes.push(`503 for ${d.faultMs} ms, then ${GARBAGE_MODES.join(', ')} for ${each} ms each; V2 restarted after`);
        break;
      }
      case 3: {
        await this.v2.bank();
        await cluster.stopService(cluster.v2);
        await sleep(d.faultMs);
        await cluster.startService(cluster.v2);
        break;
      }
      case 4: {
        const held = await replicaViews(cluster);
        await cluster.killRedis();
        await sleep(d.faultMs);
        const during = await replicaViews(cluster);
        extra.storeUpDuringOutage = during.map((v) => ({ id: v.id, storeUp: v.storeUp, version: v.version }));
        await cluster.restartRedisEmpty();
        const c = await waitConverged(cluster, 10_000);
        convergeMs = c.ms;
        views = c.views;
        const want = JSON.stringify(held[0].routes);
        const got = views.map((v) => JSON.stringify(v.routes));
        extra.restoredRoutesMatch = got.every((g) => g === want);
        extra.restoredRoutesDetail = `before: v${held[0].version}; after: ${views.map((v) => `${v.id} v${v.version} ${v.epoch}`).join(', ')}`;
        const st = await runCutover(['status', '--state', cluster.redisUrl, '--json'], { timeoutMs: 20_000 });
        try {
          const doc = JSON.parse(st.stdout);
          extra.storeVersionAfter = doc.state?.version ?? null;
          extra.historyNote = 'the store restarted empty: a replica restored its last applied state under a new epoch (shared/state/replica-agent.ts)';
        } catch {
          notes.push(`cutover status --json did not parse: ${st.stderr.slice(0, 200)}`);
        }
        break;
      }
      case 5: {
        const victim = cluster.proxies[1];
        await this.bankShadow(victim.id);
        await cluster.killProxy(victim);
        await sleep(d.faultMs);
        await cluster.startProxy(victim);
        notes.push(`${victim.id}'s shadow counters before the kill are kept in the totals (read just before SIGKILL)`);
        break;
      }
      case 6: {
        const ab = await runCutover(['abort', '--state', cluster.redisUrl, '--reason', 'soak: abort under load', '--timeout', '3000', '--json'], { timeoutMs: 30_000 });
        const ackAt = load.now();
        let doc: any = null;
        try {
          doc = JSON.parse(ab.stdout);
        } catch {
          notes.push(`abort output did not parse: ${ab.stdout.slice(0, 200)} ${ab.stderr.slice(0, 200)}`);
        }
        extra.abortOk = ab.code === 0 && doc?.ok === true && (doc?.appliedBy?.length ?? 0) === cluster.proxies.length;
        extra.abortDetail = `exit ${ab.code}, ok ${doc?.ok}, applied by ${(doc?.appliedBy ?? []).map((r: any) => r.id ?? r).join(', ')} in ${doc?.elapsedMs} ms, version ${doc?.version}`;
        extra.abortElapsedMs = doc?.elapsedMs ?? null;
        await sleep(d.faultMs);
        const resumeAt = load.now();
        const rs = await runCutover(['resume', '--state', cluster.redisUrl, '--reason', 'soak: fault cleared', '--json'], { timeoutMs: 30_000 });
        extra.v2AfterAbort = load.samples.filter((s) => s.t > ackAt && s.t < resumeAt && s.upstream === 'v2').length;
        const steps: string[] = [`resume exit ${rs.code}`];
        let rampOk = rs.code === 0;
        for (const r of MIRROR_ROUTES) {
          const x = await adminChange(cluster, { action: 'mode', route: r, mode: 'mirror' });
          steps.push(`${r} mirror ${x.status}`);
          rampOk &&= x.status === 200;
        }
        for (const w of [10, 25, 50]) {
          for (const r of CANARY_ROUTES) {
            const x = await adminChange(cluster, { action: 'set-weight', route: r, weight: w });
            steps.push(`${r} ${w} ${x.status}`);
            rampOk &&= x.status === 200;
          }
          await sleep(Math.max(300, Math.round(d.afterMs / 6)));
        }
        const c = await waitConverged(cluster, 5000);
        const routes = c.views[0]?.routes ?? {};
        const planned = MIRROR_ROUTES.every((r) => routes[r]?.mode === 'mirror') && CANARY_ROUTES.every((r) => routes[r]?.mode === 'canary' && routes[r]?.weight === 50);
        extra.rampOk = rampOk && planned;
        extra.rampDetail = steps.join(', ');
        break;
      }
      case 7: {
        await cluster.stopService(cluster.replica);
        await sleep(d.faultMs);
        await cluster.startService(cluster.replica);
        break;
      }
      case 8: {
        const target = cluster.proxies[0];
        const f = await slowUploads({ dataUrl: target.dataUrl, adminUrl: target.adminUrl, faultMs: Math.max(d.faultMs, 5000), quick: d.faultMs < FULL.faultMs });
        extra.slowUploads = f;
        notes.push(
          `${f.trickleSmall} small and ${f.trickleLarge} streamed trickling uploads, ${f.stalled} stalled; upload places held at most ${f.maxUploadPlacesHeld} of ${f.uploadPlaceLimit}; ` +
            `stalled answered 408: ${f.stalledAnswered408}; trickling clients answered meanwhile: ${JSON.stringify(f.trickleAnswered)}`,
        );
        break;
      }
    }

    const duringEnd = load.now();
    await sleep(d.afterMs);
    const afterEnd = load.now();
    if (id !== 4) {
      const c = await waitConverged(cluster, 5000);
      views = c.views;
      if (c.ms === null) notes.push('replicas did not converge within 5 s after recovery');
    }
    const shadow = subShadow(await this.shadowSoFar(), shadow0);
    const v21 = await this.v2.total();
    const legacy = await serviceCounts(cluster.legacy.url);
    const rss: Record<string, number | undefined> = {};
    const pids: Record<string, number> = {};
    for (const p of cluster.live()) {
      rss[p.label] = rssMb(p.pid);
      pids[p.label] = p.pid;
    }
    extra.pids = pids;
    const heap: Record<string, unknown> = {};
    for (const p of cluster.proxies) heap[p.id] = p.proc ? await proxyHeapMb(p.adminUrl) : undefined;
    extra.proxyHeapMb = heap;
    const samples = load.samples;
    const rec: Omit<FaultRecord, 'checks'> = {
      id,
      name: meta.name,
      what: meta.what,
      window: { before: [Math.round(beforeStart), Math.round(duringStart)], during: [Math.round(duringStart), Math.round(duringEnd)], after: [Math.round(duringEnd), Math.round(afterEnd)] },
      before: phaseFigures(samples, beforeStart, duringStart),
      during: phaseFigures(samples, duringStart, duringEnd),
      after: phaseFigures(samples, duringEnd, afterEnd),
      client: phaseFigures(samples, duringStart, afterEnd),
      postsToV2FromMirror: v21.posts - v20.posts,
      postsAppliedTwice: (legacy?.appliedMoreThanOnce ?? 0) + v21.appliedMoreThanOnce,
      shadow,
      states: views,
      converged: converged(views),
      convergeMs,
      rssMb: rss,
      notes,
      extra,
    };
    if (!legacy) notes.push('legacy counters could not be read');
    return { ...rec, checks: faultChecks(rec) };
  }
}
