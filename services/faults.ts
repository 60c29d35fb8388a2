/**
 * Fault knobs: a pure parser/validator for `NAME[:ENDPOINT]=VALUE` specs and the live
 * settings a service consults on every request. Same knobs at start (`--fault`) and at run
 * time (`PUT/PATCH /_admin/faults`). Unknown knobs are refused, all named in one message.
 */
import { faultSpecError } from './errors.js';
import { ENDPOINT_NAMES, isEndpoint, type Endpoint } from './endpoints.js';
import { hashString } from './data/prng.js';
import type { ServiceName } from './data/ledger.js';

export interface Knobs {
  /** Added latency before the handler runs, ms. */
  latencyMs: number;
  /** Extra latency, uniform in [0, jitterMs). */
  jitterMs: number;
  /** Share of requests answered with `errorStatus` instead of being served. */
  errorRate: number;
  errorStatus: number;
  /** Share of requests answered 429 with Retry-After instead of being served. */
  throttleRate: number;
  /** V2 bug: share of accounts (fixed per account) whose balance is one minor unit too high. */
  wrongBalanceShare: number;
  /** V2 bug: this top-level field is left out of response bodies ('' for none). */
  dropField: string;
  /** V2 bug: share of new POSTs written to the ledger twice. */
  doubleApplyRate: number;
}

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  errorStatus: 500,
  throttleRate: 0,
  wrongBalanceShare: 0,
  dropField: '',
  doubleApplyRate: 0,
});

export type KnobName = keyof Knobs;
const KNOB_NAMES = Object.keys(DEFAULT_KNOBS) as KnobName[];
const V2_ONLY: ReadonlySet<KnobName> = new Set(['wrongBalanceShare', 'dropField', 'doubleApplyRate']);

export interface FaultSettings {
  all: Partial<Knobs>;
  byEndpoint: Partial<Record<Endpoint, Partial<Knobs>>>;
}

type KnobRule = (raw: unknown) => { value: number | string } | { reason: string };

const share: KnobRule = (raw) => {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) return { reason: 'must be a number between 0 and 1' };
  return { value: n };
};
const millis: KnobRule = (raw) => {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 60_000) return { reason: 'must be whole milliseconds between 0 and 60000' };
  return { value: n };
};
const status5xx: KnobRule = (raw) => {
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 500 || n > 599) return { reason: 'must be an HTTP status between 500 and 599' };
  return { value: n };
};
const fieldName: KnobRule = (raw) => {
  if (typeof raw !== 'string' || !/^[A-Za-z0-9_]{0,64}$/.test(raw)) return { reason: 'must be a top-level field name (letters, digits, _) or "" for none' };
  return { value: raw };
};

const RULES: Record<KnobName, KnobRule> = {
  latencyMs: millis,
  jitterMs: millis,
  errorRate: share,
  errorStatus: status5xx,
  throttleRate: share,
  wrongBalanceShare: share,
  dropField: fieldName,
  doubleApplyRate: share,
};

export function knownKnobs(service: ServiceName): KnobName[] {
  return KNOB_NAMES.filter((k) => service === 'v2' || !V2_ONLY.has(k));
}

/**
 * Parses `{ "latencyMs": 50, "errorRate:balance": 0.2 }` into settings. Every problem is
 * collected and reported at once, naming each knob.
 */
export function parseFaultMap(map: Record<string, unknown>, service: ServiceName, served?: ServedBy): FaultSettings {
  const settings: FaultSettings = { all: {}, byEndpoint: {} };
  const unknown: string[] = [];
  const problems: string[] = [];
  const known = knownKnobs(service);
  for (const [key, raw] of Object.entries(map)) {
    const [name, endpoint, extra] = key.split(':');
    if (extra !== undefined || !(known as string[]).includes(name) || (endpoint !== undefined && !isEndpoint(endpoint))) {
      if (V2_ONLY.has(name as KnobName) && service === 'legacy') problems.push(`${key}: is a V2-only bug knob; legacy does not have it`);
      else unknown.push(key);
      continue;
    }
    if (endpoint !== undefined && served && !served.endpoints.includes(endpoint as Endpoint)) {
      problems.push(`${key}: ${served.name} does not serve ${endpoint} (it serves ${served.endpoints.join(', ')})`);
      continue;
    }
    const r = RULES[name as KnobName](raw);
    if ('reason' in r) {
      problems.push(`${key}: ${r.reason}, got ${JSON.stringify(raw)}`);
      continue;
    }
    const target = endpoint === undefined ? settings.all : (settings.byEndpoint[endpoint as Endpoint] ??= {});
    (target as Record<string, unknown>)[name] = r.value;
  }
  if (unknown.length > 0) {
    problems.unshift(
      `unknown fault knob${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')}; ` +
        `scope one to an endpoint as NAME:ENDPOINT with ENDPOINT one of ${ENDPOINT_NAMES.join(', ')})`,
    );
  }
  if (problems.length > 0) throw faultSpecError('faults', problems.join('; '));
  return settings;
}

/** A service that serves only some endpoints: its endpoint-scoped knobs must name one of them. */
export interface ServedBy {
  name: string;
  endpoints: readonly Endpoint[];
}

/**
 * Splits CLI `--fault` values for the services of a layout, by name: `NAME[:ENDPOINT]=VALUE`
 * goes to every service that has the knob and serves the endpoint (V2-only bug knobs to the
 * V2 services only); `SERVICE.NAME...` goes to that service alone; `v2.NAME...` to every V2
 * service. Every problem is reported at once, naming the spec.
 */
export function faultsByService(args: readonly string[], services: ReadonlyArray<{ name: string; kind: ServiceName; endpoints: readonly Endpoint[] }>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = Object.fromEntries(services.map((s) => [s.name, {}]));
  const problems: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw faultSpecError('--fault', `"${arg}" must be NAME=VALUE, e.g. latencyMs=50, errorRate:balance=0.2 or members-v2.wrongBalanceShare=0.1`);
    let name = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    let targets = services;
    const m = /^([a-z][a-z0-9-]*)\.(.+)$/.exec(name);
    if (m) {
      targets = m[1] === 'v2' ? services.filter((s) => s.kind === 'v2') : services.filter((s) => s.name === m[1]);
      if (targets.length === 0) {
        problems.push(`"${arg}": no service ${m[1]} (services: ${services.map((s) => s.name).join(', ')}; v2. means every V2 service)`);
        continue;
      }
      name = m[2];
    } else {
      const [knob, endpoint] = name.split(':');
      if (V2_ONLY.has(knob as KnobName)) targets = targets.filter((s) => s.kind === 'v2');
      // an unaddressed endpoint-scoped knob goes to the services that serve the endpoint
      if (endpoint !== undefined && isEndpoint(endpoint)) targets = targets.filter((s) => s.endpoints.includes(endpoint));
    }
    for (const t of targets) out[t.name]![name] = value;
  }
  for (const s of services) {
    try {
      parseFaultMap(out[s.name]!, s.kind, s);
    } catch (err) {
      problems.push(`${s.name}: ${(err as Error).message.replace(/^faults: /, '')}`);
    }
  }
  if (problems.length > 0) throw faultSpecError('--fault', problems.join('\n  '));
  return out;
}

/** The live fault settings of one service. */
export class FaultState {
  private settings: FaultSettings = { all: {}, byEndpoint: {} };

  /** `served`: the endpoints of a V2 service that serves only some (the split layout). */
  constructor(readonly service: ServiceName, initial?: Record<string, unknown>, private readonly served?: ServedBy) {
    if (initial) this.replace(initial);
  }

  /** Replaces every knob: the ones not named go back to their defaults. */
  replace(map: Record<string, unknown>): void {
    this.settings = parseFaultMap(map, this.service, this.served);
  }

  /** Changes only the knobs named. */
  merge(map: Record<string, unknown>): void {
    const next = parseFaultMap(map, this.service, this.served);
    this.settings.all = { ...this.settings.all, ...next.all };
    for (const [ep, knobs] of Object.entries(next.byEndpoint) as Array<[Endpoint, Partial<Knobs>]>) {
      this.settings.byEndpoint[ep] = { ...this.settings.byEndpoint[ep], ...knobs };
    }
  }

  reset(): void {
    this.settings = { all: {}, byEndpoint: {} };
  }

  get<K extends KnobName>(endpoint: Endpoint, knob: K): Knobs[K] {
    const scoped = this.settings.byEndpoint[endpoint]?.[knob];
    if (scoped !== undefined) return scoped as Knobs[K];
    return (this.settings.all[knob] ?? DEFAULT_KNOBS[knob]) as Knobs[K];
  }

  /** Every knob with its value, then the endpoint-scoped ones that are set. */
  toJSON(): { faults: Record<string, number | string>; knobs: KnobName[]; endpoints: Endpoint[] } {
    const faults: Record<string, number | string> = {};
    for (const k of knownKnobs(this.service)) faults[k] = this.settings.all[k] ?? DEFAULT_KNOBS[k];
    for (const [ep, knobs] of Object.entries(this.settings.byEndpoint)) {
      for (const [k, v] of Object.entries(knobs as Partial<Knobs>)) faults[`${k}:${ep}`] = v as number | string;
    }
    return { faults, knobs: knownKnobs(this.service), endpoints: this.served ? [...this.served.endpoints] : ENDPOINT_NAMES };
  }
}

/** Whether an account falls in the wrong-balance share: fixed per account, not per request. */
export function accountInShare(accountId: string, shareOfAccounts: number): boolean {
  if (shareOfAccounts <= 0) return false;
  return hashString(accountId) / 4294967296 < shareOfAccounts;
}
