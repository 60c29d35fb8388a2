/**
 * Events the proxy publishes at its boundaries (node:diagnostics_channel). Metrics, tracing
 * and logs subscribe; the hot path only calls `channel.hasSubscribers && channel.publish(...)`.
 */
import diagnostics from 'node:diagnostics_channel';

export const channels = {
  /** { route, upstream, method, reason: 'weight'|'target'|'mode'|'fallback' } */
  routed: diagnostics.channel('cutover:routed'),
  /** { route, upstream, status, durationMs, error?: 'timeout'|'connect'|'reset' } */
  upstreamResponded: diagnostics.channel('cutover:upstream-responded'),
  /** { route, outcome: 'sent'|'dropped'|'timeout'|'error'|'skipped_unsafe'|'skipped_body', durationMs? } */
  shadow: diagnostics.channel('cutover:shadow'),
  /** { route, result: 'match'|'mismatch'|'waived'|'noise'|'error', traceId?, findings } */
  diffRecorded: diagnostics.channel('cutover:diff-recorded'),
  /** { version, previousVersion, by, action, reason? } */
  stateApplied: diagnostics.channel('cutover:state-applied'),
  /** { up: boolean, error? } */
  stateStore: diagnostics.channel('cutover:state-store'),
} as const;
