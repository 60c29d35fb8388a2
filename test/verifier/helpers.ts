/** Builders for pairs and verdicts in the verifier tests. */
import type { CapturedResponse, MirroredPair } from '../../shared/pairs.js';

export interface SideSpec {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  truncated?: boolean;
  latencyMs?: number;
  error?: string;
}

export function captured(spec: SideSpec = {}): CapturedResponse {
  const body = spec.body === undefined ? '' : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
  const r: CapturedResponse = {
    status: spec.status ?? 200,
    headers: spec.headers ?? { 'content-type': 'application/json' },
    body,
    latencyMs: spec.latencyMs ?? 5,
  };
  if (spec.truncated) r.truncated = true;
  if (spec.error) {
    r.error = spec.error;
    r.status = 0;
  }
  return r;
}

let seq = 0;

export function makePair(legacy: SideSpec, v2: SideSpec, extra: Omit<Partial<MirroredPair>, 'replica'> & { replica?: SideSpec } = {}): MirroredPair {
  const { replica, ...rest } = extra;
  const pair: MirroredPair = {
    id: `p-${++seq}`,
    at: '2024-05-01T10:00:00.000Z',
    route: 'balance',
    method: 'GET',
    path: '/accounts/1/balance',
    requestHeaders: {},
    legacy: captured(legacy),
    v2: captured(v2),
    ...rest,
  };
  if (replica) pair.replica = captured(replica);
  return pair;
}
