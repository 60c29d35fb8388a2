/**
 * `cutover verify --pairs pairs.jsonl` | `--replay requests.jsonl --legacy URL --v2 URL`:
 * verdicts for recorded pairs, or for recorded requests sent to both sides now.
 *
 * Exit codes: 0 when every pair matched (or its differences are waived or noise); 1 when any
 * pair has an open finding or could not be compared (an upstream did not answer: the check is
 * incomplete); 2 for bad usage or a bad input line (named; nothing is sent or written then).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { openStateStore } from '../../shared/state/index.js';
import type { Waiver } from '../../shared/state/types.js';
import { replayRequestsFile, verifyPairsFile } from '../../verifier/offline.js';
import { createProgress } from '../../verifier/progress.js';
import { renderSummary } from '../../verifier/summary.js';
import type { AggregateSnapshot, Verdict } from '../../verifier/types.js';
import { usageError } from '../errors.js';
import { printJson } from '../output.js';
import { loadOptionalConfig } from '../target.js';

function httpUrl(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw usageError(field, 'is required with --replay (a base URL like http://127.0.0.1:4001)');
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(v)) throw usageError(field, `"${v}" is not an http:// or https:// URL`);
  return v;
}

function concurrency(v: unknown): number {
  const n = Number(v ?? 8);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw usageError('--concurrency', `must be a whole number from 1 to 256 (got ${String(v)})`);
  return n;
}

async function waiversFrom(url: string | undefined): Promise<Waiver[]> {
  if (!url) return [];
  const store = openStateStore(url);
  try {
    return (await store.read())?.waivers ?? [];
  } finally {
    await store.close();
  }
}

function openOut(file: string | undefined): WriteStream | undefined {
  if (!file) return undefined;
  return createWriteStream(file, { flags: 'w' });
}

async function closeOut(out: WriteStream | undefined): Promise<void> {
  if (!out) return;
  await new Promise<void>((res, rej) => {
    out.once('error', rej);
    out.end(() => res());
  });
}

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  const pairs: string | undefined = opts.pairs;
  const replayFile: string | undefined = opts.replay;
  if (!pairs && !replayFile) throw usageError('--pairs', 'give --pairs FILE (recorded pairs) or --replay FILE (recorded requests)');
  if (pairs && replayFile) throw usageError('--pairs', 'give either --pairs or --replay, not both');
  const legacy = replayFile ? httpUrl(opts.legacy, '--legacy') : undefined;
  const v2 = replayFile ? httpUrl(opts.v2, '--v2') : undefined;
  const conc = concurrency(opts.concurrency);
  const config = await loadOptionalConfig(opts.config);
  const waivers = await waiversFrom(opts.state);

  const mismatchCount = { n: 0 };
  const progress = createProgress(process.stderr, replayFile ? 'replay' : 'verify');
  let out: WriteStream | undefined;
  const onVerdict = (v: Verdict) => {
    if (v.result === 'mismatch' || v.result === 'error') mismatchCount.n++;
    out?.write(JSON.stringify(v) + '\n');
  };
  const onProgress = (done: number, total: number) => progress.update(done, total, mismatchCount.n);

  let snapshot: AggregateSnapshot;
  let header: string;
  let extra: Record<string, unknown> = {};
  // Files are opened only after the input checked out (verify*File check every line first).
  const lazyOut = () => (out ??= openOut(opts.out));
  let finished = false;
  try {
    if (pairs) {
      const source = `verify --pairs ${pairs}`;
      const { book, total } = await verifyPairsFile(pairs, {
        config,
        waivers,
        source,
        onVerdict: (v) => {
          lazyOut();
          onVerdict(v);
        },
        onProgress,
      });
      snapshot = book.snapshot();
      header = `verified ${total} pair${total === 1 ? '' : 's'} from ${pairs}`;
    } else {
      const source = `verify --replay ${replayFile}`;
      const { book, total, replay } = await replayRequestsFile(replayFile!, {
        config,
        waivers,
        source,
        legacy: legacy!,
        v2: v2!,
        concurrency: conc,
        allowUnsafe: Boolean(opts.allowUnsafe),
        onVerdict: (v) => {
          lazyOut();
          onVerdict(v);
        },
        onProgress,
      });
      snapshot = book.snapshot();
      const recorded = total + replay.skippedUnsafe + replay.skippedIncomplete;
      header = `replayed ${replay.sent} of ${recorded} request${recorded === 1 ? '' : 's'} from ${replayFile} against legacy ${legacy} and V2 ${v2}`;
      if (replay.skippedUnsafe > 0) header += `\nskipped ${replay.skippedUnsafe} unsafe request${replay.skippedUnsafe === 1 ? '' : 's'} (POST/PUT/PATCH/DELETE; --allow-unsafe replays them)`;
      if (replay.skippedIncomplete > 0) header += `\nskipped ${replay.skippedIncomplete} request${replay.skippedIncomplete === 1 ? '' : 's'} recorded without its body (larger than the recorder keeps)`;
      extra = { replayed: replay.sent, skippedUnsafe: replay.skippedUnsafe, skippedIncomplete: replay.skippedIncomplete };
    }
    finished = true;
  } finally {
    progress.end();
    if (finished && !out && opts.out) lazyOut();
    await closeOut(out);
  }

  const t = snapshot.totals;
  const failed = t.mismatch + t.error;
  const exitCode = failed > 0 ? 1 : 0;
  if (opts.json) {
    printJson({ exitCode, ...extra, summary: snapshot });
  } else {
    process.stdout.write(renderSummary(snapshot, header));
    process.stdout.write(
      failed > 0
        ? `\nresult: ${t.mismatch} pair${t.mismatch === 1 ? '' : 's'} with open findings, ${t.error} not compared (exit 1)\n`
        : `\nresult: no open findings${t.waived + t.noise > 0 ? ` (${t.waived} waived, ${t.noise} noise)` : ''} (exit 0)\n`,
    );
  }
  return exitCode;
}
