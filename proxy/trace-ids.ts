/**
 * The trace and span ids of requests in flight, for log lines. Tracing (proxy/tracing.ts) sets
 * them when it starts a request's span; the debug request log sets the trace id it saw sent
 * upstream when tracing is off. Keyed weakly by the request: nothing to clean up.
 */
export interface TraceIds {
  trace_id: string;
  span_id?: string;
}

const byRequest = new WeakMap<object, TraceIds>();

export function setTraceIds(request: object, ids: TraceIds): void {
  byRequest.set(request, ids);
}

/** `{ trace_id, span_id }` to spread into a log line's fields, or undefined (spreads to nothing). */
export function traceFields(request: object): TraceIds | undefined {
  return byRequest.get(request);
}
