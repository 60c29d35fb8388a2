/**
 * The shadow's own call to legacy (or its replica) for one mirrored request. Its answer plays
 * the part the client's answer plays in the proxy: it is fed to the Mirror as legacy's side of
 * the pair, counted as legacy's in the stats window (the baseline of relative gates) and
 * published on the same boundary event (metrics). Nobody waits for it, so a body over the
 * route's maxBodyBytes is not read to the end: the pair is marked truncated (never a match).
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { channels } from '../shared/events.js';
import { classifyUpstreamError } from '../proxy/errors.js';
import type { Mirror, MirrorContext } from '../proxy/mirror.js';
import { LEGACY, type ProxyStats } from '../proxy/stats.js';

export class LegacyCall implements Dispatcher.DispatchHandler {
  private bytes = 0;
  private cut = false;
  private finished = false;

  constructor(
    private readonly mirror: Mirror,
    private readonly stats: ProxyStats,
    private readonly ctx: MirrorContext,
  ) {}

  onRequestStart(): void {}

  onResponseStart(c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    const ctx = this.ctx;
    const micros = (performance.now() - ctx.t0) * 1000;
    this.stats.recordServed(ctx.spec.index, LEGACY, status, micros);
    if (channels.upstreamResponded.hasSubscribers) {
      channels.upstreamResponded.publish({ route: ctx.spec.name, upstream: 'legacy', status, durationMs: micros / 1000 });
    }
    const flat: string[] = [];
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const one of v) flat.push(k, one);
      else flat.push(k, v);
    }
    this.mirror.legacyResponse(ctx, status, flat);
    if (Number(headers['content-length']) > ctx.spec.config.maxBodyBytes) this.stopReading(c);
  }

  private stopReading(c: Dispatcher.DispatchController): void {
    if (this.cut) return;
    this.cut = true;
    this.ctx.legacy.truncated = true;
    c.abort(new Error('legacy body over maxBodyBytes'));
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.mirror.legacyData(this.ctx, chunk);
    this.bytes += chunk.length;
    if (this.bytes > this.ctx.spec.config.maxBodyBytes) this.stopReading(c);
  }

  onResponseEnd(): void {
    if (this.finished) return;
    this.finished = true;
    this.mirror.legacyEnd(this.ctx);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.cut) return this.onResponseEnd();
    if (this.finished) return;
    this.finished = true;
    const ctx = this.ctx;
    const f = classifyUpstreamError(err);
    if (ctx.legacy.status !== 0) {
      // Headers came, the body was cut short.
      this.mirror.legacyEnd(ctx, f.kind);
      return;
    }
    this.stats.recordFailure(ctx.spec.index, LEGACY, f.kind);
    if (channels.upstreamResponded.hasSubscribers) {
      channels.upstreamResponded.publish({ route: ctx.spec.name, upstream: 'legacy', status: f.status, durationMs: performance.now() - ctx.t0, error: f.kind });
    }
    this.mirror.legacyFailed(ctx, f.kind === 'protocol' ? f.cause : f.kind);
  }
}
