/**
 * Request recording (`record: { file, sample }` in the config): a sampled share of the
 * requests the proxy serves is appended to a JSONL file, one RecordedRequest a line, with
 * credentials redacted, for `cutover verify --replay` to send to legacy and V2 later.
 *
 * The hot path only samples and queues a line; writes are batched and asynchronous, and a
 * backlog over its cap drops lines (counted), so a slow disk never slows a request.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { capturedRequestHeaders } from './headers.js';

export interface RecorderOptions {
  file: string;
  /** Percent of requests recorded (0..100). */
  sample: number;
  redactHeaders: readonly string[];
  /** Lines waiting to be written beyond this many bytes are dropped (default 4 MiB). */
  maxBacklogBytes?: number;
  flushIntervalMs?: number;
}

export class RequestRecorder {
  readonly file: string;
  private readonly sample: number;
  private readonly redact: ReadonlySet<string>;
  private readonly maxBacklog: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private fh: FileHandle | undefined;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private seq = 0;
  recorded = 0;
  dropped = 0;
  errors = 0;

  constructor(opts: RecorderOptions) {
    this.file = opts.file;
    this.sample = opts.sample;
    this.redact = new Set(opts.redactHeaders.map((h) => h.toLowerCase()));
    this.maxBacklog = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    mkdirSync(dirname(opts.file), { recursive: true });
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Cheap coin toss: whether this request is recorded. */
  sampled(): boolean {
    return this.sample >= 100 || (this.sample > 0 && Math.random() * 100 < this.sample);
  }

  record(req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; route: string; body?: Buffer | null }): void {
    const line: Record<string, unknown> = {
      method: req.method,
      path: req.url,
      headers: capturedRequestHeaders(req.headers, this.redact),
      route: req.route,
      at: new Date().toISOString(),
      id: `${process.pid.toString(36)}-${(++this.seq).toString(36)}`,
    };
    if (req.body && req.body.length > 0) line.body = req.body.toString('utf8');
    const text = `${JSON.stringify(line)}\n`;
    if (this.pendingBytes + text.length > this.maxBacklog) {
      this.dropped++;
      return;
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    this.recorded++;
  }

  /** Write what is queued. One flush at a time; lines queued meanwhile wait for the next. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.length === 0) return Promise.resolve();
    const batch = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.flushing = (async () => {
      try {
        this.fh ??= await open(this.file, 'a');
        await this.fh.write(batch);
      } catch {
        this.errors++;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
