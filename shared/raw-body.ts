/**
 * A captured side whose body is still the bytes that came off the wire. The mirror hands large
 * bodies to the verifier this way: its worker thread receives the bytes moved, not copied, and
 * decodes them there, so the proxy's own thread never builds (and later garbage-collects) a
 * multi-megabyte string for each side of each pair. Anything else that reads `body` gets the
 * text, decoded on first read (UTF-8, or base64 when `bodyBase64`).
 *
 * Once the bytes are moved to a worker (`moveRawBody`), the side's `body` reads ''.
 */
import type { CapturedResponse } from './pairs.js';

const RAW = Symbol('cutover.rawBody');
type WithRaw = CapturedResponse & { [RAW]?: Buffer };

/** Bodies at least this long travel as bytes (smaller ones cost more to move than to copy). */
export const RAW_BODY_MIN_BYTES = 64 * 1024;

function settle(side: WithRaw, text: string): string {
  delete side[RAW];
  Object.defineProperty(side, 'body', { value: text, enumerable: true, writable: true, configurable: true });
  return text;
}

/** `side` (all but its body) with `raw` as its body, decoded when first read. `raw` must own its memory. */
export function withRawBody(side: Omit<CapturedResponse, 'body'>, raw: Buffer): CapturedResponse {
  const s = side as WithRaw;
  Object.defineProperty(s, RAW, { value: raw, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(s, 'body', {
    enumerable: true,
    configurable: true,
    get(this: WithRaw) {
      return settle(this, this[RAW]?.toString(this.bodyBase64 === true ? 'base64' : 'utf8') ?? '');
    },
    set(this: WithRaw, text: string) {
      settle(this, text);
    },
  });
  return s;
}

/** Whether the side still holds its body as bytes (reading `typeof side.body` would decode it). */
export function hasRawBody(side: CapturedResponse): boolean {
  return (side as WithRaw)[RAW] !== undefined;
}

/** Length of the side's body without decoding it: bytes while raw, else characters of `body`. */
export function bodyLength(side: CapturedResponse | undefined): number {
  if (side === undefined || side === null) return 0;
  const raw = (side as WithRaw)[RAW];
  if (raw !== undefined) return raw.length;
  return typeof side.body === 'string' ? side.body.length : 0;
}

/**
 * Takes the side's bytes for a move to another thread, when it has them and they own their whole
 * ArrayBuffer (so moving it takes nothing else along); the side's `body` then reads ''.
 */
export function moveRawBody(side: CapturedResponse): Buffer | undefined {
  const s = side as WithRaw;
  const raw = s[RAW];
  if (raw === undefined || raw.byteOffset !== 0 || raw.buffer.byteLength !== raw.length) return undefined;
  settle(s, '');
  return raw;
}

/** The text of bytes that arrived from another thread (a structured clone gives a plain Uint8Array). */
export function decodeMovedBody(bytes: Uint8Array, base64: boolean): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString(base64 ? 'base64' : 'utf8');
}
