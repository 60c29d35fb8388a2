/**
 * The proxy's log: one JSON object per line on stderr (parse it, don't grep it). Only what an
 * operator needs: listeners, state changes, upstream failures with their cause.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

function errorFields(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.cause !== undefined) out.cause = errorFields(err.cause);
  return out;
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? ((process.env.CUTOVER_LOG_LEVEL as LogLevel) || 'info')] ?? ORDER.info;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  return {
    log(level, msg, fields) {
      if (ORDER[level] < min) return;
      const rec: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
      if (fields) for (const k in fields) rec[k] = k === 'err' ? errorFields(fields[k]) : fields[k];
      write(`${JSON.stringify(rec)}\n`);
    },
  };
}
