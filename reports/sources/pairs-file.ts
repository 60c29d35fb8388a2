/**
 * `--pairs FILE`: runs the verifier over a recorded pairs file (JSONL, one MirroredPair per
 * line) with the config's compare rules, redaction and waivers, through the verifier's own line
 * reader and per-pair task, booked the way the live pipeline books verdicts. Two streaming
 * passes keep memory bounded: the first aggregates, the second fetches the few pairs the
 * examples point at (for side-by-side bodies). Reservoir sampling is seeded, so the same file
 * gives the same report.
 */
import type { CutoverConfig } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';
import type { MirroredPair } from '../../shared/pairs.js';
import { mulberry32 } from '../../shared/prng.js';
import type { Waiver } from '../../shared/state/types.js';
import { VerdictBook } from '../../verifier/book.js';
import { toPair } from '../../verifier/input.js';
import { readJsonl } from '../../verifier/jsonl.js';
import { routeMatcher, type RouteMatcher } from '../../verifier/route-match.js';
import { routeSettingsFromConfig } from '../../verifier/rules.js';
import { prepareContext, verifyOne } from '../../verifier/task.js';
import type { AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { classifyVerdict } from '../../verifier/verdict.js';
import { reportInputError } from '../errors.js';

export interface PairsFileResult {
  aggregate: AggregateSnapshot;
  pairs: Map<string, MirroredPair>;
  verdicts: Map<string, Verdict>;
  /** Pairs read, verified, and skipped by --since. */
  counts: { lines: number; verified: number; skipped: number };
}

export interface PairsFileOptions {
  config?: Readonly<CutoverConfig> | null;
  since?: string | null;
  waivers?: readonly Waiver[];
  now?: () => number;
}

/** Every pair of the file, checked by the verifier's own line reader; errors name `--pairs` and the line. */
async function eachPair(file: string, match: RouteMatcher | undefined, fn: (pair: MirroredPair) => void): Promise<number> {
  let n = 0;
  try {
    for await (const { line, value } of readJsonl(file)) {
      fn(toPair(value, file, line, match));
      n++;
    }
  } catch (err) {
    if (err instanceof InputError) throw reportInputError('--pairs', err.message, err);
    throw err;
  }
  return n;
}

export async function verifyPairsFile(file: string, opts: PairsFileOptions = {}): Promise<PairsFileResult> {
  const config = opts.config ?? undefined;
  const sinceMs = opts.since ? Date.parse(opts.since) : -Infinity;
  const match = config ? routeMatcher(config) : undefined;
  const ctx = prepareContext({ routes: routeSettingsFromConfig(config), redact: config?.redact });
  const clock = opts.now ?? Date.now;
  const book = new VerdictBook({
    source: `pairs file ${file}`,
    waivers: opts.waivers ?? [],
    examplesPerPath: config?.verifier.examplesPerPath,
    maxPaths: config?.verifier.maxPaths,
    noise: config ? { relative: config.verifier.noise.relative, absolute: config.verifier.noise.absolute } : undefined,
    recent: 1,
    // seeded, so the examples picked by reservoir sampling are the same on every run
    random: mulberry32(0x5eed),
    clock,
    now: () => new Date(clock()),
  });
  let verified = 0;
  let skipped = 0;
  const lines = await eachPair(file, match, (pair) => {
    if (Date.parse(pair.at) < sinceMs) {
      skipped++;
      return;
    }
    book.add(verifyOne(pair, ctx));
    verified++;
  });
  const aggregate = book.snapshot();

  const wanted = new Set<string>();
  for (const r of aggregate.routes) for (const p of r.paths) for (const ex of p.examples) wanted.add(ex.pairId);
  const pairs = new Map<string, MirroredPair>();
  const verdicts = new Map<string, Verdict>();
  if (wanted.size > 0) {
    await eachPair(file, match, (pair) => {
      if (!wanted.has(pair.id) || pairs.has(pair.id) || Date.parse(pair.at) < sinceMs) return;
      pairs.set(pair.id, pair);
      // classified against the final noise counts and waivers, without counting it again
      verdicts.set(pair.id, classifyVerdict(verifyOne(pair, ctx), book));
    });
  }
  return { aggregate, pairs, verdicts, counts: { lines, verified, skipped } };
}
