/**
 * A mirrored pair: what the proxy captured of one request served by legacy and copied to V2.
 * The proxy produces these; the verifier consumes them (live, or from a JSONL file where each
 * line is one MirroredPair). Credentials are redacted before a pair leaves the proxy.
 */
export interface CapturedResponse {
  /** 0 when there was no response (see `error`). */
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /**
   * The body as UTF-8 text (JSON bodies stay text; the verifier parses them), or, with
   * `bodyBase64`, its bytes in base64.
   */
  body: string;
  /**
   * `body` holds the bytes as sent, base64-encoded. The proxy sets it when the answer has a
   * `content-encoding` (gzip, br...): compressed bytes do not survive a trip through UTF-8 text.
   * The verifier decodes the content-encoding itself (bounded by maxBodyBytes).
   */
  bodyBase64?: boolean;
  /** True when the body was longer than maxBodyBytes and `body` holds only its start. */
  truncated?: boolean;
  /**
   * The upstream sent its status and headers, then the body stopped short of its end (the
   * connection closed or failed mid-body): `status` is what it said, `body` what came. The
   * verifier never compares such a pair (`not-compared`, reason `cut-short`). An `error` with a
   * non-zero status means the same.
   */
  cutShort?: boolean;
  latencyMs: number;
  /**
   * 'timeout' | 'connect' | 'reset' | other short cause, when the upstream did not answer;
   * 'midstream' when it answered and then failed before its body was complete (with `cutShort`).
   */
  error?: string;
}

export interface MirroredPair {
  id: string;
  /** ISO 8601, when the request arrived. */
  at: string;
  route: string;
  /** The upstreams (by name) that answered as the route's legacy and V2 sides; absent from older proxies. */
  legacyUpstream?: string;
  v2Upstream?: string;
  method: string;
  /** Path with query string, as the client sent it. */
  path: string;
  /** Selected request headers, redacted. */
  requestHeaders: Record<string, string>;
  legacy: CapturedResponse;
  v2: CapturedResponse;
  /** A second legacy's answer to the same request, when the noise replica was sampled. */
  replica?: CapturedResponse;
  traceId?: string;
}

/** Where the proxy hands pairs. `offer` never blocks; false means the pair was dropped (and counted by the sink). */
export interface PairSink {
  offer(pair: MirroredPair): boolean;
}
