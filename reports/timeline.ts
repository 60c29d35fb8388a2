/**
 * The rollout timeline from history entries: V2's share of each route over time and one event
 * per entry (weight change, mode change, check, pause, promotion, abort with its reason).
 * Pure: entries in, timeline out.
 */
import type { HistoryEntry } from '../shared/state/types.js';
import type { Timeline, TimelineEvent, TimelineEventKind, TimelinePoint } from './model.js';

const KIND_BY_ACTION: Record<string, TimelineEventKind> = {
  'set-weight': 'weight',
  weight: 'weight',
  mode: 'mode',
  pause: 'pause',
  resume: 'resume',
  promote: 'promote',
  abort: 'abort',
  rollback: 'abort',
  'plan-step': 'plan-step',
  step: 'plan-step',
  check: 'check',
  analysis: 'check',
  waiver: 'waiver',
  waive: 'waiver',
  'waiver-add': 'waiver',
  'waiver-remove': 'waiver',
};

const MAX_NUMBERS_PER_EVENT = 40;

interface RouteNow {
  mode: string;
  weight: number;
}

/** V2's share served for a mode and weight. */
export function shareOf(mode: string, weight: number): number {
  if (mode === 'v2') return 100;
  if (mode === 'legacy' || mode === 'mirror') return 0;
  return weight;
}

function kindOf(entry: HistoryEntry): TimelineEventKind {
  const k = KIND_BY_ACTION[entry.action];
  if (k) return k;
  if (entry.action.startsWith('waiver')) return 'waiver';
  if (entry.changes?.some((c) => c.path === 'aborted' && c.to === true)) return 'abort';
  return 'other';
}

function show(v: unknown): string {
  if (v === undefined) return '-';
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

/**
 * The numbers of a check: the plan runner's `checks` list as `ROUTE CHECK` (V2's value) and
 * `ROUTE CHECK limit`; any other data flattened to dotted keys.
 */
function numbersOf(data: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  let n = 0;
  const checks = data?.checks;
  if (Array.isArray(checks) && checks.every((c) => c && typeof c === 'object' && typeof (c as { check?: unknown }).check === 'string')) {
    for (const c of checks as Array<Record<string, unknown>>) {
      if (n >= MAX_NUMBERS_PER_EVENT) break;
      const key = `${typeof c.route === 'string' ? `${c.route} ` : ''}${String(c.check)}`;
      if (typeof c.value === 'number' && Number.isFinite(c.value)) {
        out[key] = roundForPeople(c.value);
        n++;
      }
      if (typeof c.limit === 'number' && Number.isFinite(c.limit)) {
        out[`${key} limit`] = c.limit;
        n++;
      }
    }
    return out;
  }
  const walk = (v: unknown, key: string, depth: number) => {
    if (n >= MAX_NUMBERS_PER_EVENT || depth > 5) return;
    if (typeof v === 'number' && Number.isFinite(v)) {
      out[key] = roundForPeople(v);
      n++;
    } else if (Array.isArray(v)) {
      v.slice(0, 20).forEach((x, i) => walk(x, key ? `${key}.${i}` : String(i), depth + 1));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k, depth + 1);
    }
  };
  walk(data, '', 0);
  return out;
}

function resultOf(data: Record<string, unknown> | undefined): string | null {
  if (!data) return null;
  for (const k of ['result', 'verdict', 'outcome', 'status']) {
    const v = data[k];
    if (typeof v === 'string') return v;
  }
  return null;
}

function routesOfData(data: Record<string, unknown> | undefined): string[] {
  if (!data) return [];
  if (typeof data.route === 'string') return [data.route];
  if (Array.isArray(data.routes)) return data.routes.filter((r): r is string => typeof r === 'string');
  if (Array.isArray(data.checks)) {
    return [...new Set((data.checks as Array<{ route?: unknown }>).map((c) => c?.route).filter((r): r is string => typeof r === 'string'))];
  }
  return [];
}

/** Applies one change to the per-route state; returns the routes it touched. */
function applyChange(routes: Map<string, RouteNow>, change: { path: string; from: unknown; to: unknown }): string[] {
  const setRoute = (name: string, patch: Partial<RouteNow>, from: Partial<RouteNow>) => {
    const cur = routes.get(name) ?? { mode: from.mode ?? 'unknown', weight: from.weight ?? 0 };
    routes.set(name, { ...cur, ...patch });
    return [name];
  };
  const p = change.path.replace(/^\//, '').replace(/\//g, '.');
  let m = /^routes\.(.+)\.(weight|mode)$/.exec(p);
  if (m) {
    const [, name, field] = m;
    if (field === 'weight' && typeof change.to === 'number') {
      return setRoute(name!, { weight: change.to }, { weight: typeof change.from === 'number' ? change.from : undefined });
    }
    if (field === 'mode' && typeof change.to === 'string') {
      return setRoute(name!, { mode: change.to }, { mode: typeof change.from === 'string' ? change.from : undefined });
    }
    return [];
  }
  m = /^routes\.(.+)$/.exec(p);
  if (m && change.to && typeof change.to === 'object') {
    const to = change.to as Partial<RouteNow>;
    return setRoute(m[1]!, { ...(typeof to.mode === 'string' ? { mode: to.mode } : {}), ...(typeof to.weight === 'number' ? { weight: to.weight } : {}) }, {});
  }
  if ((p === 'routes' || p === '' || p === 'state') && change.to && typeof change.to === 'object') {
    const obj = (p === 'routes' ? change.to : (change.to as { routes?: unknown }).routes) as Record<string, Partial<RouteNow>> | undefined;
    const touched: string[] = [];
    for (const [name, r] of Object.entries(obj ?? {})) {
      if (!r || typeof r !== 'object') continue;
      touched.push(
        ...setRoute(name, { ...(typeof r.mode === 'string' ? { mode: r.mode } : {}), ...(typeof r.weight === 'number' ? { weight: r.weight } : {}) }, {}),
      );
    }
    return touched;
  }
  return [];
}

/** `balance: mirror; transactions: canary 5%` for a change that sets whole routes. */
function describeRoutes(path: string, to: object): string {
  const one = (name: string, r: unknown) => {
    const x = (r ?? {}) as Partial<RouteNow>;
    return `${name}: ${String(x.mode ?? '?')}${x.mode === 'canary' && typeof x.weight === 'number' ? ` ${x.weight}%` : ''}`;
  };
  if (path === 'routes') return Object.entries(to).map(([n, r]) => one(n, r)).join('; ');
  return one(path.slice('routes.'.length), to);
}

/** A number rounded to what a person reads: 3 significant digits, whole above 100. */
export function roundForPeople(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const a = Math.abs(n);
  if (a >= 100) return Math.round(n);
  return Number(n.toPrecision(3));
}

/** `canary 10`, `mirror`, `legacy` for a route's state. */
function stateText(r: Partial<RouteNow> | undefined): string {
  if (!r || !r.mode) return '?';
  return r.mode === 'canary' ? `canary ${r.weight ?? 0}` : r.mode;
}

/** The plan id an entry belongs to: its data, a `plan` change, or `plan <id>` in its reason. */
export function planIdOf(entry: HistoryEntry): string | null {
  const d = entry.data as { planId?: unknown } | undefined;
  if (typeof d?.planId === 'string') return d.planId;
  for (const c of entry.changes ?? []) {
    if (c.path.replace(/^\//, '') === 'plan') {
      const to = c.to as { planId?: unknown } | null;
      const from = c.from as { planId?: unknown } | null;
      if (typeof to?.planId === 'string') return to.planId;
      if (typeof from?.planId === 'string') return from.planId;
    }
  }
  const m = /\bplan ([0-9a-f]{8,})\b/.exec(entry.reason ?? '');
  return m ? m[1]! : null;
}

/**
 * One short line (`balance, transactions: canary 10 → legacy`) and the full list of changes for
 * the details view. Route changes are folded per route (mode and weight together) and routes
 * with the same change are named together.
 */
function summarize(
  entry: HistoryEntry,
  kind: TimelineEventKind,
  result: string | null,
  routes: string[],
  before: ReadonlyMap<string, RouteNow>,
  after: ReadonlyMap<string, RouteNow>,
): { summary: string; details: string | null } {
  const touched: string[] = [];
  const other: string[] = [];
  const detail: string[] = [];
  for (const c of entry.changes ?? []) {
    const p = c.path.replace(/^\//, '').replace(/\//g, '.');
    const m = /^routes\.(.+)\.(weight|mode)$/.exec(p);
    if (m) {
      if (!touched.includes(m[1]!)) touched.push(m[1]!);
      detail.push(`${m[1]}: ${m[2]} ${show(c.from)} → ${show(c.to)}`);
    } else if ((p === 'routes' || p.startsWith('routes.')) && c.to && typeof c.to === 'object') {
      const names = p === 'routes' ? Object.keys(c.to) : [p.slice('routes.'.length)];
      for (const n of names) if (!touched.includes(n)) touched.push(n);
      detail.push(describeRoutes(p, c.to));
    } else if ((p === '' || p === 'state') && c.to && typeof (c.to as { routes?: unknown }).routes === 'object') {
      for (const n of Object.keys((c.to as { routes: object }).routes)) if (!touched.includes(n)) touched.push(n);
      detail.push(describeRoutes('routes', (c.to as { routes: object }).routes));
    } else if (p === 'plan') {
      const to = c.to as { step?: unknown; detail?: { status?: unknown } } | null;
      detail.push(`plan: ${to ? `step index ${show(to.step)}${to.detail?.status ? `, ${show(to.detail.status)}` : ''}` : 'cleared'}`);
    } else if (p !== 'abortReason' && p !== 'updatedAt' && p !== 'updatedBy') {
      other.push(`${p || 'state'}: ${show(c.from)} → ${show(c.to)}`);
    }
  }
  // group routes by their change: `balance, transactions: canary 10 → legacy`
  const groups = new Map<string, string[]>();
  for (const r of touched) {
    const from = before.get(r);
    const to = after.get(r);
    const text = from && from.mode !== 'unknown' ? `${stateText(from)} → ${stateText(to)}` : `→ ${stateText(to)}`;
    if (from && to && from.mode === to.mode && from.weight === to.weight) continue;
    groups.set(text, [...(groups.get(text) ?? []), r]);
  }
  const parts = [...groups.entries()].map(([text, rs]) => `${rs.join(', ')}: ${text}`);
  parts.push(...other);
  if (kind === 'check') {
    const checks = (entry.data as { checks?: unknown } | undefined)?.checks;
    const list = Array.isArray(checks) ? (checks as Array<Record<string, unknown>>) : [];
    const failed = list.filter((c) => c?.status === 'fail' && typeof c.reason === 'string').map((c) => String(c.reason));
    parts.unshift(`check ${result ?? 'done'}${routes.length ? ` on ${routes.length > 3 ? `${routes.length} routes` : routes.join(', ')}` : ''}${failed.length ? `: ${failed.length} failed` : ''}`);
    for (const c of list) if (typeof c?.reason === 'string') detail.push(`${String(c.status ?? '').toUpperCase()} ${c.reason}`);
  }
  if (parts.length === 0) parts.push(entry.action);
  let summary = parts.join('; ');
  if (summary.length > 160) summary = `${summary.slice(0, 159)}…`;
  const details = [...detail, ...other].join('\n');
  return { summary, details: details.length > 0 ? (details.length > 8000 ? `${details.slice(0, 7999)}…` : details) : null };
}

/**
 * Builds the timeline. Entries before `since` still set the starting state but produce no
 * events; each route's series starts at the first shown time with its state then.
 */
export function buildTimeline(entries: readonly HistoryEntry[], opts: { since?: string | null; now?: string } = {}): Timeline {
  const sorted = [...entries].sort((a, b) => a.version - b.version || Date.parse(a.at) - Date.parse(b.at));
  const sinceMs = opts.since ? Date.parse(opts.since) : -Infinity;
  const routes = new Map<string, RouteNow>();
  let hadEarlier = false;
  const series = new Map<string, TimelinePoint[]>();
  const events: TimelineEvent[] = [];
  let seeded = false;

  const push = (name: string, at: string) => {
    const r = routes.get(name);
    if (!r) return;
    const pts = series.get(name) ?? [];
    const point = { at, share: shareOf(r.mode, r.weight), mode: r.mode, weight: r.weight };
    const last = pts[pts.length - 1];
    if (last && last.at === at) pts[pts.length - 1] = point;
    else if (!last || last.share !== point.share || last.mode !== point.mode || last.weight !== point.weight) pts.push(point);
    series.set(name, pts);
  };

  for (const entry of sorted) {
    const atMs = Date.parse(entry.at);
    const visible = !(atMs < sinceMs);
    if (visible && !seeded) {
      // the state as it stood when the shown range begins
      seeded = true;
      const start = hadEarlier ? new Date(sinceMs).toISOString() : entry.at;
      for (const name of routes.keys()) push(name, start);
    }
    // a route's first change tells its state before that change: seed from `from`
    for (const c of entry.changes ?? []) {
      const p = c.path.replace(/^\//, '').replace(/\//g, '.');
      const m = /^routes\.(.+)\.(weight|mode)$/.exec(p);
      if (m && !routes.has(m[1]!) && visible) {
        const name = m[1]!;
        if (m[2] === 'weight' && typeof c.from === 'number') routes.set(name, { mode: 'unknown', weight: c.from });
        if (m[2] === 'mode' && typeof c.from === 'string') routes.set(name, { mode: c.from, weight: 0 });
        if (routes.has(name)) push(name, entry.at);
      }
    }
    const before = new Map([...routes].map(([k, v]) => [k, { ...v }]));
    const touched = new Set<string>();
    for (const c of entry.changes ?? []) for (const r of applyChange(routes, c)) touched.add(r);
    if (!visible) {
      hadEarlier = true;
      continue;
    }
    for (const r of touched) push(r, entry.at);

    const kind = kindOf(entry);
    const result = kind === 'check' ? resultOf(entry.data) : null;
    const evRoutes = [...new Set([...touched, ...routesOfData(entry.data)])].sort();
    const reasonChange = entry.changes?.find((c) => c.path === 'abortReason' && typeof c.to === 'string');
    const { summary, details } = summarize(entry, kind, result, evRoutes, before, routes);
    events.push({
      version: entry.version,
      planId: planIdOf(entry),
      at: entry.at,
      by: entry.by,
      action: entry.action,
      kind,
      routes: evRoutes,
      summary,
      details,
      reason: entry.reason ?? (reasonChange ? String(reasonChange.to) : null),
      ticket: entry.ticket ?? null,
      result,
      numbers: kind === 'check' ? numbersOf(entry.data) : {},
    });
  }

  const from = events[0]?.at ?? null;
  const lastAt = events[events.length - 1]?.at ?? null;
  const to = opts.now && (!lastAt || Date.parse(opts.now) > Date.parse(lastAt)) ? opts.now : lastAt;
  return {
    from: hadEarlier && events.length ? new Date(sinceMs).toISOString() : from,
    to,
    series: [...series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([route, points]) => ({ route, points })),
    events,
  };
}
