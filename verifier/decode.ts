/**
 * A captured body as the text the service meant: base64 bytes (see `CapturedResponse.bodyBase64`)
 * decoded, then every `content-encoding` undone, last applied first (`gzip, br` was gzipped,
 * then brotli-compressed). Each step stops at `max` bytes of output, so a decompression bomb
 * costs at most what a `max`-byte body does and comes back as `too-large`.
 */
import zlib from 'node:zlib';
import type { CapturedResponse } from '../shared/pairs.js';
import type { NotComparedReason } from './types.js';

export type DecodedBody = { text: string } | { reason: NotComparedReason; detail: string };

type Step = (input: Buffer, max: number) => Buffer;

const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer, o: { maxOutputLength: number }) => Buffer }).zstdDecompressSync;

const STEPS: Record<string, Step | undefined> = {
  identity: (b) => b,
  gzip: (b, max) => zlib.gunzipSync(b, { maxOutputLength: max }),
  'x-gzip': (b, max) => zlib.gunzipSync(b, { maxOutputLength: max }),
  // HTTP's deflate is zlib-wrapped; some servers send it raw.
  deflate: (b, max) => {
    try {
      return zlib.inflateSync(b, { maxOutputLength: max });
    } catch (err) {
      if (isTooLarge(err)) throw err;
      return zlib.inflateRawSync(b, { maxOutputLength: max });
    }
  },
  br: (b, max) => zlib.brotliDecompressSync(b, { maxOutputLength: max }),
  zstd: zstd ? (b, max) => zstd(b, { maxOutputLength: max }) : undefined,
};

function isTooLarge(err: unknown): boolean {
  return err instanceof RangeError || (err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE';
}

/** The content-encodings of a header value, in the order they were applied; empty for none. */
export function contentEncodings(header: string | undefined): string[] {
  if (header === undefined) return [];
  const out: string[] = [];
  for (const part of header.split(',')) {
    const name = part.trim().toLowerCase();
    if (name.length > 0 && name !== 'identity') out.push(name);
  }
  return out;
}

/** UTF-8 byte length of a string, without encoding it when its length already decides. */
function overUtf8(text: string, max: number): boolean {
  if (text.length > max) return true;
  return text.length * 3 > max && Buffer.byteLength(text, 'utf8') > max;
}

/** Decodes one side's body (bounded by `max` bytes at every step). */
export function decodeBody(side: CapturedResponse, max: number): DecodedBody {
  const body = side.body ?? '';
  const encodings = contentEncodings(side.headers?.['content-encoding']);
  if (encodings.length === 0) {
    if (!side.bodyBase64) return overUtf8(body, max) ? { reason: 'too-large', detail: `body over maxBodyBytes (${max})` } : { text: body };
    const bytes = Buffer.from(body, 'base64');
    if (bytes.length > max) return { reason: 'too-large', detail: `body of ${bytes.length} bytes over maxBodyBytes (${max})` };
    return { text: bytes.toString('utf8') };
  }
  for (const e of encodings) {
    if (STEPS[e] === undefined) return { reason: 'undecodable', detail: `content-encoding ${e} is not one the verifier decodes (gzip, deflate, br${zstd ? ', zstd' : ''})` };
  }
  // Without base64 the bytes went through UTF-8 text and are likely damaged; try them anyway.
  let bytes: Buffer = side.bodyBase64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  for (let i = encodings.length - 1; i >= 0; i--) {
    try {
      bytes = STEPS[encodings[i]]!(bytes, max);
    } catch (err) {
      if (isTooLarge(err)) return { reason: 'too-large', detail: `body over maxBodyBytes (${max}) once ${encodings[i]} is decoded` };
      return { reason: 'undecodable', detail: `body does not decode as ${encodings[i]}: ${(err as Error)?.message ?? String(err)}` };
    }
  }
  if (bytes.length > max) return { reason: 'too-large', detail: `decoded body of ${bytes.length} bytes over maxBodyBytes (${max})` };
  return { text: bytes.toString('utf8') };
}
