/**
 * Verdicts as JSONL under a directory: `verdicts.jsonl` is written, and rotated to
 * `verdicts-<time>-<n>.jsonl` when it would pass `maxBytes`; only the newest `maxFiles` files
 * (the current one included) are kept, so the directory stays under maxBytes x maxFiles.
 * Writes are batched and asynchronous; a backlog over its cap drops lines, counted.
 */
import { stringifyExact } from './json-exact.js';
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface JsonlWriterOptions {
  dir: string;
  prefix?: string;
  maxBytes: number;
  maxFiles: number;
  /** Lines waiting to be written beyond this many bytes are dropped (default 8 MiB). */
  maxBacklogBytes?: number;
}

export class RotatingJsonlWriter {
  readonly dir: string;
  readonly current: string;
  private readonly prefix: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly maxBacklog: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private size = -1;
  private fh: FileHandle | undefined;
  private flushing: Promise<void> | undefined;
  private seq = 0;
  bytesWritten = 0;
  rotations = 0;
  filesDeleted = 0;
  errors = 0;
  dropped = 0;
  lastError: string | undefined;

  constructor(opts: JsonlWriterOptions) {
    this.dir = opts.dir;
    this.prefix = opts.prefix ?? 'verdicts';
    this.maxBytes = opts.maxBytes;
    this.maxFiles = Math.max(1, opts.maxFiles);
    this.maxBacklog = opts.maxBacklogBytes ?? 8 * 1_048_576;
    this.current = join(this.dir, `${this.prefix}.jsonl`);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Queues one line; false (and counted) when the backlog is full. */
  writeLine(line: string): boolean {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.pendingBytes + bytes > this.maxBacklog) {
      this.dropped++;
      return false;
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    if (!this.flushing) this.flushing = this.flushLoop();
    return true;
  }

  write(value: unknown): boolean {
    return this.writeLine(stringifyExact(value));
  }

  get backlogBytes(): number {
    return this.pendingBytes;
  }

  private async flushLoop(): Promise<void> {
    // Let the current tick add its lines first.
    await new Promise<void>((r) => setImmediate(r));
    try {
      while (this.pending.length > 0) {
        const lines = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        try {
          await this.append(lines);
        } catch (err) {
          this.errors++;
          this.dropped += lines.length;
          this.lastError = (err as Error).message;
          await this.closeHandle();
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async append(lines: string[]): Promise<void> {
    if (this.size < 0) {
      try {
        this.size = (await stat(this.current)).size;
      } catch {
        this.size = 0;
      }
    }
    // Split into chunks that fit the current file; rotate between them.
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const text = line + '\n';
      const b = Buffer.byteLength(text);
      if (this.size + chunkBytes + b > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunkBytes > 0) await this.writeChunk(chunk, chunkBytes);
        chunk = '';
        chunkBytes = 0;
        await this.rotate();
      }
      chunk += text;
      chunkBytes += b;
    }
    if (chunkBytes > 0) await this.writeChunk(chunk, chunkBytes);
  }

  private async writeChunk(text: string, bytes: number): Promise<void> {
    this.fh ??= await open(this.current, 'a');
    await this.fh.appendFile(text);
    this.size += bytes;
    this.bytesWritten += bytes;
  }

  private async closeHandle(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await fh.close().catch(() => undefined);
  }

  private async rotate(): Promise<void> {
    await this.closeHandle();
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const name = `${this.prefix}-${stamp}-${String(++this.seq).padStart(4, '0')}.jsonl`;
    try {
      await rename(this.current, join(this.dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.size = 0;
    this.rotations++;
    const rotated = (await readdir(this.dir)).filter((f) => f.startsWith(`${this.prefix}-`) && f.endsWith('.jsonl')).sort();
    const excess = rotated.length - (this.maxFiles - 1);
    for (let i = 0; i < excess; i++) {
      await unlink(join(this.dir, rotated[i])).catch(() => undefined);
      this.filesDeleted++;
    }
  }

  /** Resolves when everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.closeHandle();
  }
}
