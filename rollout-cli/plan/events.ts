/**
 * What `cutover run` tells people and scripts: one event type per thing that happened. The
 * `--json` output is these events as NDJSON, each with `schemaVersion` and `at`.
 */
import type { Mode } from '../../shared/config.js';
import type { CheckResult, Verdict } from './analysis.js';

/**
 * 2: every `step` (and `resumedAt`) is 1-based, "step N of M" as the text prints it, like
 * `cutover status`, the history's entries and the proxies' `cutover_rollout_step` metric.
 */
export const RUN_EVENTS_SCHEMA_VERSION = 2;

export type RouteView = Record<string, { mode: Mode; weight: number }>;

/** A plan without `routes:`: what it drives, and what it leaves alone and why. */
export interface DrivenRoutes {
  routes: string[];
  left: Array<{ route: string; why: string }>;
  note?: string;
}

export type RunEvent =
  | { type: 'start'; planId: string; steps: number; store: string; holder: string; dryRun: boolean; resumedAt?: number; metricsSource: string; driven?: DrivenRoutes }
  | { type: 'step'; step: number; of: number; description: string; routes: RouteView; dryRun?: boolean }
  | { type: 'check'; step: number; of: number; windowSeconds: number; verdict: Verdict; checks: CheckResult[]; skipped: string[]; replicas: string[]; noTraffic?: string[]; dryRun?: boolean }
  | { type: 'critical'; step: number; of: number; windowSeconds: number; verdict: Verdict; checks: CheckResult[] }
  | { type: 'hold'; step: number; of: number; reason: string; remainingMs?: number }
  | { type: 'pause'; step: number; of: number; reason: string; by?: string }
  | { type: 'unpause'; step: number; of: number; reason: string; by?: string }
  | { type: 'promote'; step: number; of: number; reason: string }
  | { type: 'no-traffic'; step: number; of: number; routes: string[]; windowSeconds: number }
  | { type: 'gate'; step: number; of: number; open: boolean; status?: number; error?: string }
  | { type: 'webhook'; hook: string; ok: boolean; status?: number; attempts: number; error?: string }
  | {
      type: 'rollback';
      step: number;
      of: number;
      reason: string;
      critical: boolean;
      applied: boolean;
      elapsedMs?: number;
      notApplied: string[];
      /** The V2 services whose routes failed the checks that decided (when the routes' sides are known). */
      services?: Array<{ upstream: string; routes: string[] }>;
    }
  | { type: 'complete'; steps: number; routes: RouteView }
  | { type: 'aborted'; step: number; of: number; reason: string; by?: string; version?: number }
  | { type: 'warning'; message: string }
  | { type: 'would'; step: number; of: number; action: string; dryRun: true }
  | { type: 'stop'; exitCode: number; reason: string };

export interface Reporter {
  emit(event: RunEvent): void;
  /** Flush and stop redrawing. */
  close(): void;
}
