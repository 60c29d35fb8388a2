/**
 * dashboards/cutover.grafana.json: valid JSON with what Grafana's import needs (title, uid,
 * schemaVersion, panels with type, gridPos and targets[].expr, a ${DS_PROMETHEUS} datasource
 * input), panels that do not overlap, PromQL that promtool parses, and every metric an
 * expression names exported by a live proxy's /metrics.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { ROOT } from '../helpers/processes.js';
import { parseMetrics, scrape, tempDir } from './fixtures.js';

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const FILE = join(ROOT, 'dashboards', 'cutover.grafana.json');
const text = readFileSync(FILE, 'utf8');
const dash = JSON.parse(text) as {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  templating: { list: Array<{ name: string; datasource?: { uid: string }; query?: { query: string } | string }> };
};
const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** Grafana's variables, as they expand at query time. */
function expand(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$route', '.*');
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers outside label matchers, ranges and strings that are not functions or keywords. */
function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = s.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(rest)) continue;
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    out.push(m[0]);
  }
  return out;
}

let proxy: RunningProxy;

beforeAll(async () => {
  const dir = tempDir('cutover-obs-dash-');
  const config = parseConfigText(
    `upstreams: { legacy: http://127.0.0.1:9, v2: http://127.0.0.1:10 }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: file://${join(dir, 'state.json')}
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
`,
    'dashboard-test.yaml',
    {},
  );
  proxy = await startProxy({ config, log: { log() {} } });
});

afterAll(async () => {
  await proxy?.close();
});

describe('the Grafana dashboard', () => {
  it('has the fields Grafana import needs, with the Prometheus datasource as an input', () => {
    expect(typeof dash.title).toBe('string');
    expect(dash.title.length).toBeGreaterThan(0);
    expect(dash.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(Number.isInteger(dash.schemaVersion)).toBe(true);
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dash.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    // Every ${...} placeholder is the one input Grafana's import fills in.
    expect(new Set([...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]))).toEqual(new Set(['DS_PROMETHEUS']));
    for (const v of dash.templating.list) if (v.datasource) expect(v.datasource.uid).toBe('${DS_PROMETHEUS}');
  });

  it('lays out panels with a type, an id, a grid position inside 24 columns and no overlap; every graph has targets with expr', () => {
    expect(dash.panels.length).toBeGreaterThan(10);
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
    for (const p of dash.panels) {
      expect(typeof p.type, p.title).toBe('string');
      const g = p.gridPos;
      for (const k of ['h', 'w', 'x', 'y'] as const) expect(Number.isInteger(g[k]), `${p.title} gridPos.${k}`).toBe(true);
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) {
        expect(t.expr.trim().length, p.title).toBeGreaterThan(0);
        expect(t.refId, p.title).toMatch(/^[A-Z]$/);
      }
    }
    const cells = new Map<string, string>();
    for (const p of dash.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const k = `${x},${y}`;
          expect(cells.get(k), `${p.title} overlaps ${cells.get(k)}`).toBeUndefined();
          cells.set(k, p.title);
        }
      }
    }
  });

  it('covers traffic split, errors, latency, throttling, mismatches, shadow drops, state version per replica, step and weight', () => {
    const all = exprs.map((e) => e.expr).join('\n');
    for (const name of [
      'cutover_requests_total',
      'cutover_request_duration_seconds_bucket',
      'cutover_throttled_total',
      'cutover_diffs_total',
      'cutover_shadow_total',
      'cutover_state_version',
      'cutover_rollout_step',
      'cutover_route_weight',
    ]) {
      expect(all).toContain(name);
    }
    expect(exprs.some((e) => e.expr.includes('cutover_state_version') && /instance/.test(JSON.stringify(dash.panels.find((p) => p.title === e.panel)))), 'state version per replica').toBe(true);
  });

  it('writes PromQL that promtool parses', () => {
    const dir = tempDir('cutover-obs-rules-');
    const rules = join(dir, 'rules.yml');
    const lines = ['groups:', '  - name: dashboard', '    rules:'];
    exprs.forEach((e, i) => lines.push(`      - record: dashboard:expr_${i}`, `        expr: ${JSON.stringify(expand(e.expr))}`));
    writeFileSync(rules, `${lines.join('\n')}\n`);
    let out = '';
    try {
      out = execFileSync('/usr/bin/promtool', ['check', 'rules', rules], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout: string; stderr: string };
      throw new Error(`promtool check rules failed:\n${e.stdout}${e.stderr}`);
    }
    expect(out).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  it('names only metrics a live proxy exports', async () => {
    const exported = new Set(parseMetrics(await scrape(proxy.adminUrl)).map((s) => s.name));
    expect(metricNames('sum by (route) (rate(cutover_diffs_total{result="mismatch"}[1m])) / on (route) x_total')).toEqual(['cutover_diffs_total', 'x_total']);
    for (const e of exprs) {
      const names = metricNames(expand(e.expr));
      expect(names.length, `${e.panel}: ${e.expr}`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${e.panel}: ${n} is not exported`).toBe(true);
    }
    for (const v of dash.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      const m = q && /label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(q);
      if (m) expect(exported.has(m[1]!), `variable ${v.name}: ${m[1]}`).toBe(true);
    }
  });
});
