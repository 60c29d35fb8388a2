/**
 * The live verifier: a PairSink the proxy hands mirrored pairs to. `offer` never blocks: a
 * bounded ring takes the pair or refuses it (counted). Batches go to a small piscina pool
 * (`workers: 0` runs them inline, for tests); verdicts come back redacted and are booked on this
 * thread (noise, waivers, aggregates, recent ring), published on `channels.diffRecorded`, written
 * to JSONL files and, when given a Redis URL, to a Redis stream. Every drop has a counter.
 */
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { CutoverConfig } from '../shared/config.js';
import { channels } from '../shared/events.js';
import type { MirroredPair, PairSink } from '../shared/pairs.js';
import type { Waiver } from '../shared/state/types.js';
import { packPairs, unpackVerdicts } from './batch-codec.js';
import { stringifyExact } from './json-exact.js';
import { VerdictBook } from './book.js';
import type { NoiseSettings } from './noise.js';
import type { RedactSettings } from './redact.js';
import { Redactor } from './redact.js';
import { routeSettingsFromConfig, type RouteSettingsTable } from './rules.js';
import { RotatingJsonlWriter } from './sink-file.js';
import { DEFAULT_STREAM_MAXLEN, RedisVerdictStream } from './sink-redis.js';
import { errorVerdict, pairBodyBytes, prepareContext, verifyBatch, type PreparedContext, type TaskContext } from './task.js';
import type { AggregateSnapshot, DiffQuery, PipelineStats, Verdict, VerdictResult } from './types.js';
import type { FinishOptions } from './verdict.js';

export const DEFAULT_BATCH_SIZE = 32;
export const DEFAULT_MAX_BATCH_DELAY_MS = 5;

export interface PipelineOptions {
  /** Compare rules per route, redaction and verifier settings; explicit options below win. */
  config?: Pick<CutoverConfig, 'routes' | 'defaultRoute' | 'redact' | 'verifier'>;
  routes?: RouteSettingsTable;
  redact?: RedactSettings;
  /** Worker threads; 0 diffs inline on this thread (tests). Default: config.verifier.workers, else 1. */
  workers?: number;
  /** Pairs waiting or being diffed, at most. */
  queueSize?: number;
  /** Body bytes (all sides) of the pairs waiting or being diffed, at most. */
  queueBytes?: number;
  batchSize?: number;
  /** Batches in flight per worker. */
  batchesPerWorker?: number;
  /** A partial batch waits at most this long for more pairs (each worker message has a fixed cost on this thread). */
  maxBatchDelayMs?: number;
  diffDir?: string;
  diffFileMaxBytes?: number;
  diffFileMaxFiles?: number;
  redisUrl?: string;
  streamKey?: string;
  streamMaxLen?: number;
  recent?: number;
  examplesPerPath?: number;
  maxPaths?: number;
  noise?: NoiseSettings;
  waivers?: readonly Waiver[];
  finish?: FinishOptions;
  source?: string;
  onVerdict?: (v: Verdict) => void;
}

/** What a batch holds in memory, near enough: its pairs' bodies (pairBodyBytes). */
function batchBodyBytes(batch: readonly MirroredPair[]): number {
  let n = 0;
  for (const p of batch) n += pairBodyBytes(p);
  return n;
}

/** A fixed ring of pairs. */
class PairRing {
  private readonly buf: Array<MirroredPair | undefined>;
  private head = 0;
  size = 0;
  constructor(readonly capacity: number) {
    this.buf = new Array(capacity).fill(undefined);
  }
  push(p: MirroredPair): void {
    this.buf[(this.head + this.size) % this.capacity] = p;
    this.size++;
  }
  take(max: number): MirroredPair[] {
    const n = Math.min(max, this.size);
    const out = new Array<MirroredPair>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.buf[this.head]!;
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.size -= n;
    return out;
  }
}

function workerFilename(): string {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker-tsx.mjs', here).href : new URL('./worker.js', here).href;
}

export class VerifierPipeline implements PairSink {
  readonly book: VerdictBook;
  private readonly ring: PairRing;
  private readonly queueSize: number;
  private readonly batchSize: number;
  private readonly maxInFlightBatches: number;
  private readonly maxBatchDelayMs: number;
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly pool: Piscina | undefined;
  private readonly inline: PreparedContext | undefined;
  private readonly redactor: Redactor;
  private readonly file: RotatingJsonlWriter | undefined;
  private readonly redis: RedisVerdictStream | undefined;
  private readonly onVerdict: ((v: Verdict) => void) | undefined;
  private inFlightPairs = 0;
  /** Body bytes of the pairs in the ring and in flight. */
  private heldBytes = 0;
  private readonly queueBytes: number;
  private inFlightBatches = 0;
  private scheduled = false;
  private flushNow = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly counters = {
    offered: 0,
    accepted: 0,
    verified: 0,
    results: { match: 0, mismatch: 0, waived: 0, noise: 0, error: 0, 'not-compared': 0 } as Record<VerdictResult, number>,
    queueFull: 0,
    closed: 0,
    workerError: 0,
    mainTotalMs: 0,
    mainMaxMs: 0,
  };

  constructor(opts: PipelineOptions = {}) {
    const vcfg = opts.config?.verifier;
    const workers = opts.workers ?? vcfg?.workers ?? 1;
    this.queueSize = opts.queueSize ?? vcfg?.queueSize ?? 10_000;
    this.queueBytes = opts.queueBytes ?? vcfg?.queueBytes ?? 64 * 1_048_576;
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
    this.maxBatchDelayMs = Math.max(0, opts.maxBatchDelayMs ?? DEFAULT_MAX_BATCH_DELAY_MS);
    this.ring = new PairRing(this.queueSize);
    const ctx: TaskContext = {
      routes: opts.routes ?? routeSettingsFromConfig(opts.config),
      redact: opts.redact ?? opts.config?.redact,
      finish: opts.finish,
    };
    this.redactor = new Redactor(ctx.redact);
    if (workers > 0) {
      this.pool = new Piscina({
        filename: workerFilename(),
        minThreads: workers,
        maxThreads: workers,
        idleTimeout: 60_000,
        workerData: ctx,
      });
      // A worker that dies takes its batch with it (counted in the run() rejection); piscina replaces it.
      this.pool.on('error', () => undefined);
      this.maxInFlightBatches = workers * Math.max(1, opts.batchesPerWorker ?? 2);
    } else {
      this.inline = prepareContext(ctx);
      this.maxInFlightBatches = 1;
    }
    this.book = new VerdictBook({
      source: opts.source,
      examplesPerPath: opts.examplesPerPath ?? vcfg?.examplesPerPath,
      maxPaths: opts.maxPaths ?? vcfg?.maxPaths,
      noise: opts.noise ?? (vcfg ? { relative: vcfg.noise.relative, absolute: vcfg.noise.absolute } : undefined),
      recent: opts.recent,
      waivers: opts.waivers,
    });
    const diffDir = opts.diffDir ?? vcfg?.diffDir;
    if (diffDir) {
      this.file = new RotatingJsonlWriter({
        dir: diffDir,
        maxBytes: opts.diffFileMaxBytes ?? vcfg?.diffFileMaxBytes ?? 50 * 1_048_576,
        maxFiles: opts.diffFileMaxFiles ?? vcfg?.diffFileMaxFiles ?? 5,
      });
    }
    if (opts.redisUrl) {
      this.redis = new RedisVerdictStream({ url: opts.redisUrl, key: opts.streamKey, maxLen: opts.streamMaxLen ?? DEFAULT_STREAM_MAXLEN });
    }
    this.onVerdict = opts.onVerdict;
  }

  /**
   * Never blocks. False when the pair was dropped (the queue is full, or the pipeline is closed); every drop is counted.
   * An accepted pair belongs to the pipeline: large bodies still held as bytes move to the worker, and read empty here after.
   */
  offer(pair: MirroredPair): boolean {
    this.counters.offered++;
    if (this.closed) {
      this.counters.closed++;
      return false;
    }
    const bytes = pairBodyBytes(pair);
    if (this.ring.size + this.inFlightPairs >= this.queueSize || this.heldBytes + bytes > this.queueBytes) {
      this.counters.queueFull++;
      return false;
    }
    this.heldBytes += bytes;
    this.ring.push(pair);
    this.counters.accepted++;
    this.schedule();
    return true;
  }

  /** Whether `offer` would take a pair now. */
  hasRoom(): boolean {
    return !this.closed && this.ring.size + this.inFlightPairs < this.queueSize && this.heldBytes < this.queueBytes;
  }

  setWaivers(waivers: readonly Waiver[] | undefined): void {
    this.book.setWaivers(waivers ?? []);
  }

  snapshot(): AggregateSnapshot {
    return this.book.snapshot();
  }

  query(q: DiffQuery = {}): Verdict[] {
    return this.book.query(q);
  }

  stats(): PipelineStats {
    const c = this.counters;
    const s: PipelineStats = {
      offered: c.offered,
      accepted: c.accepted,
      verified: c.verified,
      results: { ...c.results },
      queued: this.ring.size,
      inFlight: this.inFlightPairs,
      heldBytes: this.heldBytes,
      mainThreadMs: { total: c.mainTotalMs, maxBlock: c.mainMaxMs },
      dropped: {
        queueFull: c.queueFull,
        closed: c.closed,
        workerError: c.workerError,
        file: this.file?.dropped ?? 0,
        redis: this.redis?.dropped ?? 0,
      },
    };
    if (this.file) {
      s.file = {
        dir: this.file.dir,
        current: this.file.current,
        bytesWritten: this.file.bytesWritten,
        rotations: this.file.rotations,
        filesDeleted: this.file.filesDeleted,
        errors: this.file.errors,
      };
    }
    if (this.redis) s.redis = { key: this.redis.key, added: this.redis.added, errors: this.redis.errors, backlog: this.redis.backlog, connection: this.redis.connection, ...(this.redis.lastError ? { lastError: this.redis.lastError } : {}) };
    return s;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private timed(fn: () => void): void {
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    this.counters.mainTotalMs += ms;
    if (ms > this.counters.mainMaxMs) this.counters.mainMaxMs = ms;
  }

  private pump(): void {
    this.timed(() => this.pumpNow());
  }

  private pumpNow(): void {
    if (this.inline) {
      // One batch per turn of the event loop, so inline diffing never holds it for long.
      if (this.ring.size > 0) {
        const batch = this.ring.take(this.batchSize);
        let verdicts: Verdict[];
        try {
          verdicts = verifyBatch(batch, this.inline);
        } catch (err) {
          this.counters.workerError += batch.length;
          verdicts = batch.map((p) => errorVerdict(p, `verifier: ${(err as Error).message}`, this.redactor));
        }
        this.heldBytes -= batchBodyBytes(batch);
        for (const v of verdicts) this.book_(v);
      }
      if (this.ring.size > 0) this.schedule();
      else this.notifyIdle();
      return;
    }
    while (this.inFlightBatches < this.maxInFlightBatches && this.ring.size > 0) {
      // Each message to a worker costs this thread tens of microseconds whatever its size: a
      // partial batch waits up to maxBatchDelayMs for more pairs (draining sends it at once).
      if (this.ring.size < this.batchSize && !this.flushNow) {
        this.batchTimer ??= setTimeout(() => {
          this.batchTimer = undefined;
          this.flushNow = true;
          this.pump();
          this.flushNow = false;
        }, this.maxBatchDelayMs);
        break;
      }
      const batch = this.ring.take(this.batchSize);
      this.inFlightBatches++;
      this.inFlightPairs += batch.length;
      // Counted before packing: bodies moved to the worker read empty here afterwards.
      const bytes = batchBodyBytes(batch);
      const transfer: ArrayBuffer[] = [];
      const packed = packPairs(batch, transfer);
      this.pool!.run(packed, { transferList: transfer }).then(
        (verdicts: unknown[]) => this.timed(() => this.done(batch, bytes, unpackVerdicts(verdicts))),
        (err: unknown) => {
          this.counters.workerError += batch.length;
          this.done(
            batch,
            bytes,
            batch.map((p) => errorVerdict(p, `verifier worker failed: ${(err as Error)?.message ?? String(err)}`, this.redactor)),
          );
        },
      );
    }
  }

  private done(batch: MirroredPair[], bytes: number, verdicts: Verdict[]): void {
    this.inFlightBatches--;
    this.inFlightPairs -= batch.length;
    this.heldBytes -= bytes;
    for (const v of verdicts) this.book_(v);
    if (this.ring.size > 0) this.pumpNow();
    else if (this.inFlightBatches === 0) this.notifyIdle();
  }

  private book_(v: Verdict): void {
    this.book.add(v);
    this.counters.verified++;
    this.counters.results[v.result]++;
    if (channels.diffRecorded.hasSubscribers) {
      channels.diffRecorded.publish({ route: v.route, result: v.result, reason: v.notCompared?.reason, traceId: v.traceId, findings: v.findings.length });
    }
    if (this.file || this.redis) {
      const line = stringifyExact(v);
      this.file?.writeLine(line);
      this.redis?.writeLine(line);
    }
    if (this.onVerdict) {
      try {
        this.onVerdict(v);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private notifyIdle(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  /** Resolves when every accepted pair has a verdict and the sinks have written them. */
  async drain(): Promise<void> {
    while (this.ring.size > 0 || this.inFlightPairs > 0) {
      const idle = new Promise<void>((r) => this.idleWaiters.push(r));
      if (this.pool && this.ring.size > 0 && this.inFlightBatches === 0) {
        this.flushNow = true;
        this.pump();
        this.flushNow = false;
      }
      await idle;
    }
    await this.file?.flush();
    await this.redis?.flush();
  }

  /** Stops taking pairs, finishes what was accepted (up to `timeoutMs`), flushes the sinks and stops the workers. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    clearTimeout(this.batchTimer);
    await this.file?.close();
    await this.redis?.close();
    await this.pool?.destroy();
  }
}
