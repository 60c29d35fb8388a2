/**
 * Gives a verifier worker's heap back after large bodies. Parsing a pair's two bodies builds
 * trees several times their size that live for the whole comparison, so V8 promotes them; left
 * to its own pace it collects that garbage only once the old generation has grown to a few
 * hundred MB (measured: a worker diffing 2 MB pairs grew to 286 MB, of which about 60 were
 * live). A full collection after every `everyBytes` of bodies bounds the garbage at about that
 * many bytes times the parse expansion, at the price of one collection (~20 ms with 2 MB pairs,
 * against ~50 ms to diff one). Small pairs add up slowly: 1 KB pairs reach it every 8,000.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Body bytes diffed between two full collections, by default (with 2 MB answers: two pairs). */
export const RECLAIM_EVERY_BYTES = 8 * 1_048_576;

/** V8's full collection, when the runtime lets this thread have it. */
export function fullCollection(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

export class Reclaimer {
  private since = 0;
  /** Full collections run so far. */
  collections = 0;

  constructor(
    private readonly everyBytes: number,
    private readonly collect: (() => void) | undefined,
  ) {}

  /** Count `bytes` of bodies diffed; collects once `everyBytes` have been since the last time. */
  diffed(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes || this.collect === undefined) return;
    this.since = 0;
    this.collections++;
    this.collect();
  }
}
