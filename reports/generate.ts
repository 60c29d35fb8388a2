/**
 * `cutover report` end to end: read the sources the request names, build the model, render
 * the asked-for format and write it (to `reports/out/` unless `--out` says otherwise).
 */
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { loadConfig, type CutoverConfig } from '../shared/config.js';
import type { MirroredPair } from '../shared/pairs.js';
import type { HistoryEntry, Waiver } from '../shared/state/types.js';
import type { StatsSnapshot } from '../shared/stats/types.js';
import type { AggregateSnapshot, Verdict } from '../verifier/types.js';
import { buildReport } from './build.js';
import { reportWriteError } from './errors.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import type { ReportModel } from './model.js';
import type { ReportFormat, ReportRequest } from './options.js';
import { readAdmin } from './sources/admin.js';
import { readHistoryFile } from './sources/history-file.js';
import { verifyPairsFile } from './sources/pairs-file.js';
import { readVerdictStream } from './sources/redis-verdicts.js';
import { readStateStore } from './sources/state.js';

export const DEFAULT_OUT_DIR = join('reports', 'out');
const EXT: Record<ReportFormat, string> = { html: '.html', json: '.json', md: '.md' };

/** A file named for people: its name only when it sits in a temporary folder that will be gone. */
function shownFile(p: string): string {
  const tmp = tmpdir();
  return p.startsWith(`${tmp}/`) || p.startsWith('/tmp/') ? basename(p) : p;
}

export function render(model: ReportModel, format: ReportFormat): string {
  if (format === 'json') return renderJson(model);
  if (format === 'md') return renderMarkdown(model);
  return renderHtml(model);
}

/** A URL fit to show: no user or password. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

function loadReportConfig(req: ReportRequest, cwd: string): Readonly<CutoverConfig> | null {
  const file = resolve(cwd, req.config);
  if (!req.configExplicit && !existsSync(file)) return null;
  return loadConfig(file);
}

/** Where to write: `--out` as a file, or inside it when it is a folder, or `reports/out/report-TIME.EXT`. */
export function outputPath(req: ReportRequest, cwd: string, now: Date): string {
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\.\d{3}Z$/, 'Z');
  const name = `report-${stamp}${EXT[req.format]}`;
  if (req.out) {
    const p = resolve(cwd, req.out);
    const isDir = req.out.endsWith('/') || (existsSync(p) && statSync(p).isDirectory());
    return isDir ? join(p, name) : extname(p) ? p : `${p}${EXT[req.format]}`;
  }
  let p = resolve(cwd, DEFAULT_OUT_DIR, name);
  for (let i = 1; existsSync(p); i++) p = resolve(cwd, DEFAULT_OUT_DIR, `report-${stamp}-${i}${EXT[req.format]}`);
  return p;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    throw reportWriteError(path, err);
  }
}

export interface GenerateResult {
  model: ReportModel;
  path: string;
  bytes: number;
}

export async function generateReport(req: ReportRequest, opts: { cwd?: string; now?: Date } = {}): Promise<GenerateResult> {
  const cwd = opts.cwd ?? process.cwd();
  const now = opts.now ?? new Date();
  const config = loadReportConfig(req, cwd);
  const sources: string[] = [];
  let aggregate: AggregateSnapshot | null = null;
  let stats: StatsSnapshot | null = null;
  let history: HistoryEntry[] = [];
  let waivers: Waiver[] = [];
  let pairs: Map<string, MirroredPair> | undefined;
  let verdicts: Map<string, Verdict> | undefined;

  if (req.state) {
    const s = await readStateStore(req.state);
    history = s.history;
    waivers = s.waivers;
    let what = 'history, waivers';
    if (/^rediss?(\+sentinel)?:\/\//.test(req.state) && !req.pairs && !req.admin) {
      // the verifier writes every replica's verdicts next to a Redis state
      const v = await readVerdictStream(req.state, { since: req.since, label: safeUrl(req.state) });
      aggregate = v.aggregate;
      verdicts = v.verdicts;
      what += `, ${v.read} verdicts from the stream ${v.key}`;
    }
    sources.push(`state ${req.state.startsWith('file://') ? `file ${shownFile(req.state.slice('file://'.length))}` : safeUrl(req.state)} (${what})`);
  }
  if (req.history) {
    history = await readHistoryFile(resolve(cwd, req.history));
    sources.push(`history file ${req.history}`);
  }
  if (req.admin) {
    const token = req.token ?? process.env.CUTOVER_ADMIN_TOKEN ?? config?.adminToken;
    const a = await readAdmin(req.admin, { token, since: req.since });
    aggregate = a.aggregate;
    stats = a.stats;
    verdicts = a.verdicts;
    if (!req.state && !req.history) history = a.history;
    if (!req.state) waivers = a.waivers;
    sources.push(`admin ${safeUrl(req.admin)} (diffs: ${a.coverage})`);
  }
  if (req.pairs) {
    const p = await verifyPairsFile(resolve(cwd, req.pairs), { config, since: req.since, waivers, now: () => now.getTime() });
    aggregate = p.aggregate;
    pairs = p.pairs;
    verdicts = p.verdicts;
    sources.push(`pairs file ${req.pairs}`);
  }
  if (config) sources.push(`config ${shownFile(req.config)}`);

  const model = buildReport({
    aggregate,
    stats,
    history,
    pairs,
    verdicts,
    waivers,
    redaction: config ? { headers: config.redact.headers, patterns: config.redact.patterns, paths: config.redact.paths } : undefined,
    routeInfo: (route) => {
      const r = config?.routes.find((x) => x.name === route);
      if (r) return { method: r.match.method, mirrorUnsafe: r.mirrorUnsafe };
      return config && config.defaultRoute.name === route ? { method: null, mirrorUnsafe: config.defaultRoute.mirrorUnsafe } : undefined;
    },
    keyedArrays: (route) => (config?.routes.find((r) => r.name === route) ?? config?.defaultRoute)?.compare.unorderedArrays,
    ...(req.maxMismatchRate !== null ? { threshold: req.maxMismatchRate } : {}),
    failOnOpenFindings: req.failOnOpenFindings,
    since: req.since,
    now: now.toISOString(),
    sources,
    ...(config ? { limits: { examplesPerPath: Math.min(config.verifier.examplesPerPath, 5) } } : {}),
  });
  const text = render(model, req.format);
  const path = outputPath(req, cwd, now);
  writeAtomically(path, text);
  return { model, path, bytes: Buffer.byteLength(text) };
}
