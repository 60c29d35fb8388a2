/**
 * `--pairs FILE`: runs the verifier over a recorded pairs file (JSONL, one MirroredPair per
 * line) with the config's compare rules, redaction and waivers, the same way the live pipeline
 * books verdicts (compare, finish, classify, aggregate). Two streaming passes keep memory
 * bounded: the first aggregates, the second fetches the few pairs the examples point at.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { CutoverConfig } from '../../shared/config.js';
import type { MirroredPair } from '../../shared/pairs.js';
import type { Waiver } from '../../shared/state/types.js';
import { VerdictBook } from '../../verifier/book.js';
import { comparePair, type CompareSettings } from '../../verifier/compare.js';
import { Redactor } from '../../verifier/redact.js';
import type { AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { classifyVerdict, finishVerdict } from '../../verifier/verdict.js';
import { reportInputError } from '../errors.js';

export interface PairsFileResult {
  aggregate: AggregateSnapshot;
  pairs: Map<string, MirroredPair>;
  verdicts: Map<string, Verdict>;
  /** Lines read, pairs verified, pairs skipped by --since. */
  counts: { lines: number; verified: number; skipped: number };
}

export interface PairsFileOptions {
  config?: Readonly<CutoverConfig> | null;
  since?: string | null;
  waivers?: readonly Waiver[];
  now?: () => number;
}

/** A small seeded generator, so the examples picked by reservoir sampling are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function settingsFor(config: Readonly<CutoverConfig> | null | undefined): (route: string) => CompareSettings {
  const cache = new Map<string, CompareSettings>();
  return (route) => {
    let s = cache.get(route);
    if (!s) {
      const r = config?.routes.find((x) => x.name === route) ?? config?.defaultRoute;
      s = r ? { compare: r.compare, maxBodyBytes: r.maxBodyBytes } : {};
      cache.set(route, s);
    }
    return s;
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function checkResponse(v: unknown, where: string, field: string): void {
  if (!isObj(v)) throw reportInputError(where, `${field} must be an object with status, headers, body, latencyMs`);
  if (typeof v.status !== 'number') throw reportInputError(where, `${field}.status must be a number`);
  if (typeof v.body !== 'string') throw reportInputError(where, `${field}.body must be a string`);
  if (typeof v.latencyMs !== 'number') throw reportInputError(where, `${field}.latencyMs must be a number`);
  if (v.headers !== undefined && !isObj(v.headers)) throw reportInputError(where, `${field}.headers must be an object`);
}

/** Parses and checks one line; names the file and line on any problem. */
export function parsePairLine(text: string, file: string, line: number): MirroredPair {
  const where = `--pairs ${file}:${line}`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw reportInputError(where, `is not valid JSON (${(err as Error).message}); each line must be one recorded pair`, err);
  }
  if (!isObj(v)) throw reportInputError(where, 'must be a JSON object (a recorded pair)');
  for (const f of ['id', 'route', 'method', 'path', 'at'] as const) {
    if (typeof v[f] !== 'string' || v[f] === '') throw reportInputError(where, `${f} must be a non-empty string`);
  }
  if (!Number.isFinite(Date.parse(v.at as string))) throw reportInputError(where, 'at must be an ISO 8601 time');
  checkResponse(v.legacy, where, 'legacy');
  checkResponse(v.v2, where, 'v2');
  if (v.replica !== undefined) checkResponse(v.replica, where, 'replica');
  const pair = v as unknown as MirroredPair;
  pair.requestHeaders = isObj(v.requestHeaders) ? (v.requestHeaders as Record<string, string>) : {};
  pair.legacy.headers ??= {};
  pair.v2.headers ??= {};
  if (pair.replica) pair.replica.headers ??= {};
  return pair;
}

async function eachPair(file: string, fn: (pair: MirroredPair) => void): Promise<number> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw reportInputError('--pairs', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === '') continue;
      fn(parsePairLine(text, file, line));
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  return line;
}

export async function verifyPairsFile(file: string, opts: PairsFileOptions = {}): Promise<PairsFileResult> {
  const config = opts.config ?? null;
  const sinceMs = opts.since ? Date.parse(opts.since) : -Infinity;
  const settings = settingsFor(config);
  const redactor = new Redactor({ headers: config?.redact.headers, paths: config?.redact.paths });
  const clock = opts.now ?? Date.now;
  const book = new VerdictBook({
    source: `pairs file ${file}`,
    waivers: opts.waivers ?? [],
    examplesPerPath: config?.verifier.examplesPerPath,
    maxPaths: config?.verifier.maxPaths,
    noise: config ? { relative: config.verifier.noise.relative, absolute: config.verifier.noise.absolute } : undefined,
    recent: 1,
    random: seeded(0x5eed),
    clock,
    now: () => new Date(clock()),
  });
  const verdictOf = (pair: MirroredPair) => finishVerdict(comparePair(pair, settings(pair.route)), redactor);
  let verified = 0;
  let skipped = 0;
  const lines = await eachPair(file, (pair) => {
    if (Date.parse(pair.at) < sinceMs) {
      skipped++;
      return;
    }
    book.add(verdictOf(pair));
    verified++;
  });
  const aggregate = book.snapshot();

  const wanted = new Set<string>();
  for (const r of aggregate.routes) for (const p of r.paths) for (const ex of p.examples) wanted.add(ex.pairId);
  const pairs = new Map<string, MirroredPair>();
  const verdicts = new Map<string, Verdict>();
  if (wanted.size > 0) {
    await eachPair(file, (pair) => {
      if (!wanted.has(pair.id) || pairs.has(pair.id) || Date.parse(pair.at) < sinceMs) return;
      pairs.set(pair.id, pair);
      // classified against the final noise counts and waivers, without counting it again
      verdicts.set(pair.id, classifyVerdict(verdictOf(pair), book));
    });
  }
  return { aggregate, pairs, verdicts, counts: { lines, verified, skipped } };
}
