/**
 * Offline verification: recorded pairs (pairs.jsonl) or recorded requests replayed against
 * legacy and V2 (requests.jsonl). Every line is checked before anything is sent or written,
 * so bad input changes nothing; then each pair gets the same verdict a live proxy would give.
 */
import type { CutoverConfig } from '../shared/config.js';
import type { Waiver } from '../shared/state/types.js';
import { VerdictBook } from './book.js';
import { isVerdictLine, toPair, toRecordedRequest, toVerdict } from './input.js';
import { readJsonl } from './jsonl.js';
import { Redactor } from './redact.js';
import { replay, type ReplayResult } from './replay.js';
import { routeMatcher, type RouteMatcher } from './route-match.js';
import { routeSettingsFromConfig, settingsFor } from './rules.js';
import { prepareContext, verifyOne } from './task.js';
import type { RecordedRequest, Verdict } from './types.js';

export interface OfflineOptions {
  config?: Readonly<CutoverConfig>;
  waivers?: readonly Waiver[];
  source: string;
  onVerdict?: (v: Verdict) => void;
  onProgress?: (done: number, total: number) => void;
}

function bookFor(opts: OfflineOptions): VerdictBook {
  const v = opts.config?.verifier;
  return new VerdictBook({
    source: opts.source,
    examplesPerPath: v?.examplesPerPath,
    maxPaths: v?.maxPaths,
    noise: v ? { relative: v.noise.relative, absolute: v.noise.absolute } : undefined,
    waivers: opts.waivers,
  });
}

function matcherFor(config: Readonly<CutoverConfig> | undefined): RouteMatcher | undefined {
  return config ? routeMatcher(config) : undefined;
}

/** Checks every line; returns how many pairs there are. Throws an input error naming the first bad line. */
export async function checkPairsFile(file: string, match?: RouteMatcher): Promise<number> {
  let n = 0;
  for await (const { line, value } of readJsonl(file)) {
    if (isVerdictLine(value)) toVerdict(value, file, line);
    else toPair(value, file, line, match);
    n++;
  }
  return n;
}

export async function verifyPairsFile(file: string, opts: OfflineOptions): Promise<{ book: VerdictBook; total: number }> {
  const match = matcherFor(opts.config);
  const total = await checkPairsFile(file, match);
  const book = bookFor(opts);
  const ctx = prepareContext({ routes: routeSettingsFromConfig(opts.config), redact: opts.config?.redact });
  let done = 0;
  for await (const { line, value } of readJsonl(file)) {
    // a verdict the proxy already wrote is counted as it is; a pair is diffed here
    const v = book.add(isVerdictLine(value) ? toVerdict(value, file, line) : verifyOne(toPair(value, file, line, match), ctx));
    opts.onVerdict?.(v);
    opts.onProgress?.(++done, total);
  }
  return { book, total };
}

export interface ReplayFileOptions extends OfflineOptions {
  legacy: string;
  v2: string;
  concurrency: number;
  allowUnsafe: boolean;
}

async function* requestsOf(file: string): AsyncGenerator<RecordedRequest> {
  for await (const { line, value } of readJsonl(file)) yield toRecordedRequest(value, file, line);
}

export async function replayRequestsFile(file: string, opts: ReplayFileOptions): Promise<{ book: VerdictBook; total: number; replay: ReplayResult }> {
  let total = 0;
  for await (const { line, value } of readJsonl(file)) {
    const r = toRecordedRequest(value, file, line);
    if (opts.allowUnsafe || ['GET', 'HEAD', 'OPTIONS'].includes(r.method)) total++;
  }
  const config = opts.config;
  const match: RouteMatcher = matcherFor(config) ?? (() => 'default');
  const table = routeSettingsFromConfig(config);
  const redactor = new Redactor(config?.redact);
  const ctx = prepareContext({ routes: table, redact: config?.redact });
  const routeTimeout = new Map<string, number>();
  for (const r of config?.routes ?? []) routeTimeout.set(r.name, r.timeoutMs);
  const book = bookFor(opts);
  let done = 0;
  const result = await replay(requestsOf(file), {
    legacy: opts.legacy,
    v2: opts.v2,
    concurrency: opts.concurrency,
    allowUnsafe: opts.allowUnsafe,
    match,
    redactor,
    timeoutMsFor: (route) => routeTimeout.get(route) ?? config?.defaultRoute.timeoutMs ?? 30_000,
    maxBodyBytesFor: (route) => settingsFor(table, route).maxBodyBytes ?? 1_048_576,
    onPair: (pair) => {
      const v = book.add(verifyOne(pair, ctx));
      opts.onVerdict?.(v);
      opts.onProgress?.(++done, total);
    },
  });
  return { book, total, replay: result };
}
