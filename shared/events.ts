/**
 * Events the proxy publishes at its boundaries (node:diagnostics_channel). Metrics, tracing
 * and logs subscribe; the hot path only calls `channel.hasSubscribers && channel.publish(...)`.
 */
import diagnostics from 'node:diagnostics_channel';

export const channels = {
  /** { route, upstream, method, reason: 'weight'|'target'|'mode'|'fallback' } */
  routed: diagnostics.channel('cutover:routed'),
  /**
   * { request, route, upstream, headers }: a request is about to go to an upstream; `headers`
   * are the ones it will carry (traceparent set). A subscriber may replace traceparent/tracestate.
   */
  upstreamRequest: diagnostics.channel('cutover:upstream-request'),
  /** { route, upstream, status, durationMs, error?: 'timeout'|'connect'|'reset'|'protocol', request?, reply? } */
  upstreamResponded: diagnostics.channel('cutover:upstream-responded'),
  /**
   * { route, outcome: 'sent'|'dropped'|'timeout'|'error'|'skipped_unsafe'|'skipped_body'|'sampled_out'|'suspended', durationMs?, mirror? }.
   * On 'sent', `headers` are the copy's (a subscriber may replace traceparent/tracestate).
   */
  shadow: diagnostics.channel('cutover:shadow'),
  /** { route, status (0: no answer), durationMs, error?, mirror }: V2's answer to a mirror copy ended. */
  shadowDone: diagnostics.channel('cutover:shadow-done'),
  /** { route, traceId, accepted, mirror }: a mirrored pair was handed to the verifier (accepted false: dropped). */
  pairHanded: diagnostics.channel('cutover:pair-handed'),
  /** { route, result: 'match'|'mismatch'|'waived'|'noise'|'error', traceId?, findings } */
  diffRecorded: diagnostics.channel('cutover:diff-recorded'),
  /** { version, previousVersion, epoch?, by, aborted, reason? (the abort reason) } */
  stateApplied: diagnostics.channel('cutover:state-applied'),
  /** { up: boolean, error? } */
  stateStore: diagnostics.channel('cutover:state-store'),
} as const;
