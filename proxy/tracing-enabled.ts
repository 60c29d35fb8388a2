/**
 * Whether the environment asks for traces: `OTEL_TRACES_EXPORTER` names an exporter (otlp,
 * console, zipkin; not `none`) and `OTEL_SDK_DISABLED` is not true. Kept apart from
 * proxy/tracing.ts so that asking does not load the OpenTelemetry SDK.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'none');
  return exporters.length > 0 && env.OTEL_SDK_DISABLED?.trim().toLowerCase() !== 'true';
}
