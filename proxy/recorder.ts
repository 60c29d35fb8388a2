/**
 * Request recording (`record: { file, sample }` in the config): a sampled share of the
 * requests the proxy serves is appended to a JSONL file, one RecordedRequest a line, with
 * credentials redacted, for `cutover verify --replay` to send to legacy and V2 later.
 *
 * Unsafe requests (POST, PUT, PATCH, DELETE) are recorded too, marked `"unsafe": true`, so a
 * replay can send them on purpose (`--allow-unsafe`); their bodies go through the same
 * redaction as everything else (secret-named keys, `redact.paths`), and a line whose body was
 * masked says `"bodyRedacted": true` (a replay of it is not the original write). Headers keep
 * `Idempotency-Key`, which is no secret and keeps a replayed write's meaning.
 *
 * The hot path only samples and queues a line; writes are batched and asynchronous, and a
 * backlog over its cap drops lines (counted), so a slow disk never slows a request.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SAFE_METHODS } from '../shared/config.js';
import { Redactor, type RedactSettings } from '../verifier/redact.js';
import { capturedRequestHeaders } from './headers.js';

export interface RecorderOptions {
  file: string;
  /** Percent of requests recorded (0..100). */
  sample: number;
  /** The config's `redact:` (exact names, patterns, JSON paths). */
  redact: RedactSettings;
  /** Lines waiting to be written beyond this many bytes are dropped (default 4 MiB). */
  maxBacklogBytes?: number;
  flushIntervalMs?: number;
}

export class RequestRecorder {
  readonly file: string;
  private readonly sample: number;
  private readonly redactor: Redactor;
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
    this.redactor = new Redactor(opts.redact);
    this.maxBacklog = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    mkdirSync(dirname(opts.file), { recursive: true });
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Cheap coin toss: whether this request is recorded. */
  sampled(): boolean {
    return this.sample >= 100 || (this.sample > 0 && Math.random() * 100 < this.sample);
  }

  /** `bodyOmitted`: the request had a body that was not kept (larger than the copy limit). */
  record(req: {
    method: string;
    url: string;
    headers: Record<string, string | string[] | undefined>;
    route: string;
    body?: Buffer | null;
    bodyOmitted?: boolean;
  }): void {
    const line: Record<string, unknown> = {
      method: req.method,
      path: this.redactor.redactUrlPath(req.url),
      headers: capturedRequestHeaders(req.headers, this.redactor.headers),
      route: req.route,
      at: new Date().toISOString(),
      id: `${process.pid.toString(36)}-${(++this.seq).toString(36)}`,
    };
    if (!SAFE_METHODS.has(req.method)) line.unsafe = true;
    if (req.body && req.body.length > 0) {
      const text = req.body.toString('utf8');
      const masked = this.redactBody(text);
      line.body = masked;
      if (masked !== text) line.bodyRedacted = true;
    }
    if (req.bodyOmitted) line.bodyOmitted = true;
    const text = `${JSON.stringify(line)}\n`;
    if (this.pendingBytes + text.length > this.maxBacklog) {
      this.dropped++;
      return;
    }
    this.pending.push(text);
    this.pendingBytes += text.length;
    this.recorded++;
  }

  /** JSON bodies key by key (secret names, redact.paths); other text by `name=value` / `"name": value`. */
  private redactBody(text: string): string {
    const t = text.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        const parsed = JSON.parse(text) as unknown;
        const masked = this.redactor.redactValueAt('', parsed);
        return masked === parsed ? text : JSON.stringify(masked);
      } catch {
        // not JSON: masked as text
      }
    }
    return this.redactor.redactText(text);
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
