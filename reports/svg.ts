/**
 * Inline SVG charts for the HTML report: latency percentiles, the paired-delta histogram and
 * the rollout timeline. Pure functions from model parts to SVG text; every label escaped.
 */
import { escHtml as e } from './escape.js';
import { fmtMs, fmtSignedMs, fmtTime, fmtInt } from './format.js';
import type { DeltaDistribution, RouteLatency, Timeline, TimelineEvent } from './model.js';

/**
 * Route lines: blues, purples, teals, pinks and browns only. Event markers use black, greys and
 * the status colours (green pass, amber inconclusive, red fail/abort), which no route uses.
 */
export const SERIES_COLORS = ['#2563eb', '#7c3aed', '#0891b2', '#db2777', '#92400e', '#1e3a8a', '#a21caf', '#0f766e', '#9f1239', '#4338ca'];
/** Dash patterns per route, so lines at the same share stay apart. */
const SERIES_DASH = ['', '6 3', '2 3', '10 3 2 3', '1 2', '8 4'];
const LEGACY_COLOR = '#64748b';
const V2_COLOR = '#2563eb';

const r1 = (n: number) => Math.round(n * 10) / 10;

/** Grouped horizontal bars: p50/p95/p99 for legacy and V2. */
export function latencyChart(lat: RouteLatency, title: string): string {
  const rows: Array<{ label: string; legacy: number | null; v2: number | null }> = [
    { label: 'p50', legacy: lat.legacy?.p50Ms ?? null, v2: lat.v2?.p50Ms ?? null },
    { label: 'p95', legacy: lat.legacy?.p95Ms ?? null, v2: lat.v2?.p95Ms ?? null },
    { label: 'p99', legacy: lat.legacy?.p99Ms ?? null, v2: lat.v2?.p99Ms ?? null },
  ];
  const max = Math.max(1e-9, ...rows.flatMap((r) => [r.legacy ?? 0, r.v2 ?? 0]));
  const W = 560;
  const left = 44;
  const right = 90;
  const barH = 14;
  const groupH = barH * 2 + 12;
  const top = 26;
  const H = top + rows.length * groupH + 8;
  const scale = (v: number) => ((W - left - right) * v) / max;
  const parts: string[] = [];
  parts.push(`<svg class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title>${e(title)}</title>`);
  parts.push(
    `<rect x="${left}" y="6" width="10" height="10" fill="${LEGACY_COLOR}"/><text x="${left + 14}" y="15" class="lg">legacy</text>` +
      `<rect x="${left + 70}" y="6" width="10" height="10" fill="${V2_COLOR}"/><text x="${left + 84}" y="15" class="lg">V2</text>`,
  );
  rows.forEach((row, i) => {
    const y = top + i * groupH;
    parts.push(`<text x="${left - 8}" y="${y + barH + 4}" text-anchor="end" class="ax">${row.label}</text>`);
    ([['legacy', row.legacy, LEGACY_COLOR], ['V2', row.v2, V2_COLOR]] as const).forEach(([name, v, color], j) => {
      const by = y + j * barH;
      if (v === null) {
        parts.push(`<text x="${left + 4}" y="${by + barH - 3}" class="ax">no ${name} data</text>`);
        return;
      }
      const w = Math.max(1, r1(scale(v)));
      parts.push(
        `<rect x="${left}" y="${by}" width="${w}" height="${barH - 2}" fill="${color}"><title>${e(`${name} ${row.label}: ${fmtMs(v)}`)}</title></rect>` +
          `<text x="${r1(left + w + 4)}" y="${by + barH - 4}" class="val">${e(fmtMs(v))}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Histogram of paired V2-minus-legacy deltas; faster bins green, slower bins red. */
export function deltaChart(delta: DeltaDistribution, title: string): string {
  const W = 560;
  const H = 190;
  const left = 44;
  const right = 12;
  const top = 14;
  const bottom = 44;
  const bins = delta.bins;
  const parts: string[] = [];
  parts.push(`<svg class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title>${e(title)}</title>`);
  if (bins.length === 0) {
    parts.push(`<text x="${left}" y="${H / 2}" class="ax">no paired latencies</text></svg>`);
    return parts.join('');
  }
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const bw = plotW / bins.length;
  parts.push(`<line x1="${left}" y1="${top + plotH}" x2="${W - right}" y2="${top + plotH}" class="axis"/>`);
  parts.push(`<text x="${left - 6}" y="${top + 8}" text-anchor="end" class="ax">${e(fmtInt(maxCount))}</text>`);
  parts.push(`<text x="${left - 6}" y="${top + plotH}" text-anchor="end" class="ax">0</text>`);
  bins.forEach((b, i) => {
    const h = (plotH * b.count) / maxCount;
    const x = left + i * bw;
    const color = b.hiMs <= 0 ? '#059669' : b.loMs >= 0 ? '#dc2626' : '#94a3b8';
    if (b.count > 0) {
      parts.push(
        `<rect x="${r1(x + 0.5)}" y="${r1(top + plotH - h)}" width="${r1(Math.max(1, bw - 1))}" height="${r1(Math.max(h, 1))}" fill="${color}">` +
          `<title>${e(`${fmtSignedMs(b.loMs)} to ${fmtSignedMs(b.hiMs)}: ${fmtInt(b.count)} pairs`)}</title></rect>`,
      );
    }
  });
  // x labels: first, zero (when inside), last
  const labelAt = (i: number, text: string, anchor: string) =>
    parts.push(`<text x="${r1(left + i * bw)}" y="${top + plotH + 14}" text-anchor="${anchor}" class="ax">${e(text)}</text>`);
  const edge = (ms: number) => (ms === 0 ? '0' : fmtSignedMs(ms));
  labelAt(0, edge(bins[0]!.loMs), 'start');
  labelAt(bins.length, edge(bins[bins.length - 1]!.hiMs), 'end');
  const zero = bins.findIndex((b) => b.loMs >= 0);
  if (zero > 0 && zero < bins.length) {
    parts.push(`<line x1="${r1(left + zero * bw)}" y1="${top}" x2="${r1(left + zero * bw)}" y2="${top + plotH}" class="zero"/>`);
    labelAt(zero, '0', 'middle');
  }
  parts.push(
    `<text x="${left}" y="${H - 6}" class="ax">${e(
      `V2 − legacy per pair · p50 ${fmtSignedMs(delta.p50Ms)} · p95 ${fmtSignedMs(delta.p95Ms)} · p99 ${fmtSignedMs(delta.p99Ms)}`,
    )}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

export const EVENT_STYLE: Record<string, { color: string; shape: 'tri' | 'circle' | 'square' | 'diamond' }> = {
  abort: { color: '#dc2626', shape: 'tri' },
  pause: { color: '#111827', shape: 'square' },
  resume: { color: '#6b7280', shape: 'square' },
  promote: { color: '#111827', shape: 'diamond' },
  weight: { color: '#6b7280', shape: 'diamond' },
  mode: { color: '#6b7280', shape: 'diamond' },
  'plan-step': { color: '#374151', shape: 'diamond' },
  waiver: { color: '#9ca3af', shape: 'square' },
  other: { color: '#9ca3af', shape: 'circle' },
};

export function eventColor(ev: Pick<TimelineEvent, 'kind' | 'result'>): string {
  if (ev.kind === 'check') return ev.result === 'fail' ? '#dc2626' : ev.result === 'pass' ? '#059669' : '#d97706';
  return (EVENT_STYLE[ev.kind] ?? EVENT_STYLE.other!).color;
}

function marker(ev: TimelineEvent, x: number, y: number): string {
  const color = eventColor(ev);
  const shape = ev.kind === 'check' ? 'circle' : (EVENT_STYLE[ev.kind] ?? EVENT_STYLE.other!).shape;
  const s = 5;
  const tip = `<title>${e(`${fmtTime(ev.at)} · ${ev.action}${ev.result ? ` (${ev.result})` : ''} · ${ev.summary}${ev.reason ? ` · reason: ${ev.reason}` : ''}`)}</title>`;
  const xs = r1(x);
  switch (shape) {
    case 'tri':
      return `<path d="M${xs} ${y - s - 1}L${r1(x + s + 1)} ${y + s}L${r1(x - s - 1)} ${y + s}Z" fill="${color}">${tip}</path>`;
    case 'square':
      return `<rect x="${r1(x - s + 1)}" y="${y - s + 1}" width="${2 * s - 2}" height="${2 * s - 2}" fill="${color}">${tip}</rect>`;
    case 'diamond':
      return `<path d="M${xs} ${y - s}L${r1(x + s)} ${y}L${xs} ${y + s}L${r1(x - s)} ${y}Z" fill="${color}">${tip}</path>`;
    default:
      return `<circle cx="${xs}" cy="${y}" r="${s - 1}" fill="${color}">${tip}</circle>`;
  }
}

function timeTicks(from: number, to: number, n: number): number[] {
  const span = to - from;
  const steps = [1e3, 5e3, 15e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3];
  const step = steps.find((s) => span / s <= n) ?? Math.ceil(span / n / 86400e3) * 86400e3;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

function tickLabel(t: number, span: number): string {
  const iso = new Date(t).toISOString();
  if (span > 2 * 86400e3) return iso.slice(5, 10);
  if (span > 86400e3) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  if (span < 600e3) return iso.slice(11, 19);
  return iso.slice(11, 16);
}

/** V2's share per route over time (step lines) with a lane of event markers above. */
export { SERIES_DASH };
export function timelineChart(tl: Timeline, colorOf: (route: string) => string, runs: ReadonlyArray<{ planId: string; from: string; to: string }> = []): string {
  const W = 1160;
  const H = 270;
  const left = 48;
  const right = 16;
  const lane = 26;
  const top = 8 + lane;
  const bottom = 30;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  let from = Date.parse(tl.from ?? '');
  let to = Date.parse(tl.to ?? '');
  if (!Number.isFinite(from) || !Number.isFinite(to)) return '';
  if (to - from < 60e3) {
    from -= 30e3;
    to += 30e3;
  }
  // room after the last change so its new level shows
  to += (to - from) * 0.05;
  const x = (t: number) => left + (plotW * (t - from)) / (to - from);
  const y = (share: number) => top + plotH - (plotH * share) / 100;
  const parts: string[] = [];
  parts.push(`<svg class="chart wide" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title>V2 share of traffic per route over time, with rollout events</title>`);
  for (const share of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" y1="${r1(y(share))}" x2="${W - right}" y2="${r1(y(share))}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${r1(y(share) + 4)}" text-anchor="end" class="ax">${share}%</text>`);
  }
  for (const t of timeTicks(from, to, 8)) {
    parts.push(`<line x1="${r1(x(t))}" y1="${top + plotH}" x2="${r1(x(t))}" y2="${top + plotH + 4}" class="axis"/>`);
    parts.push(`<text x="${r1(x(t))}" y="${top + plotH + 16}" text-anchor="middle" class="ax">${e(tickLabel(t, to - from))}</text>`);
  }
  parts.push(`<text x="${left}" y="${14}" class="ax">events</text>`);
  // run boundaries: a band per plan run and a solid line where it starts
  runs.forEach((r, i) => {
    const a = Date.parse(r.from);
    const b = Date.parse(r.to);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return;
    parts.push(`<rect x="${r1(x(a))}" y="${top}" width="${r1(Math.max(1, x(b) - x(a)))}" height="${plotH}" class="runband${i % 2 ? ' odd' : ''}"/>`);
    parts.push(`<line x1="${r1(x(a))}" y1="${top - 4}" x2="${r1(x(a))}" y2="${top + plotH}" class="runline" data-run="${e(r.planId)}"/>`);
    parts.push(`<text x="${r1(x(a) + 4)}" y="${top + 12}" class="runlabel">${e(`run ${i + 1}: plan ${r.planId.slice(0, 8)}`)}</text>`);
  });
  // lines at the same share would hide each other: each route is nudged a little and dashed its own way
  const n = tl.series.length;
  tl.series.forEach((s, si) => {
    if (s.points.length === 0) return;
    const nudge = n > 1 ? (si - (n - 1) / 2) * 2.5 : 0;
    let d = '';
    s.points.forEach((p, i) => {
      const px = r1(x(Date.parse(p.at)));
      const py = r1(y(p.share) + nudge);
      d += i === 0 ? `M${px} ${py}` : `H${px}V${py}`;
    });
    d += `H${r1(x(to))}`;
    const dash = SERIES_DASH[si % SERIES_DASH.length];
    parts.push(
      `<path d="${d}" fill="none" stroke="${colorOf(s.route)}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''} data-route="${e(s.route)}" class="series"><title>${e(s.route)}</title></path>`,
    );
  });
  for (const ev of tl.events) {
    const t = Date.parse(ev.at);
    if (!Number.isFinite(t)) continue;
    const ex = x(t);
    if (ev.kind === 'abort' || ev.kind === 'pause' || ev.kind === 'promote' || (ev.kind === 'check' && ev.result === 'fail')) {
      parts.push(`<line x1="${r1(ex)}" y1="${top}" x2="${r1(ex)}" y2="${top + plotH}" stroke="${eventColor(ev)}" class="evline"/>`);
    }
    parts.push(marker(ev, ex, 8 + lane / 2));
  }
  parts.push('</svg>');
  return parts.join('');
}
