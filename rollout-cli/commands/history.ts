/** `cutover history [--json] [--limit N]`: the audit log, newest last. */
import { usageError } from '../errors.js';
import { formatHistoryLine, painter, printJson, println } from '../output.js';
import { resolveTarget } from '../target.js';

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  const limitText = String(opts.limit ?? '50');
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100_000) {
    throw usageError('--limit', `must be a whole number between 1 and 100000 (got ${limitText})`);
  }
  const target = await resolveTarget(opts);
  try {
    const entries = await target.history(Number(limitText));
    if (opts.json) {
      printJson({ command: 'history', source: target.where, entries });
    } else if (entries.length === 0) {
      println(`no history yet in ${target.where}`);
    } else {
      const p = painter();
      for (const e of entries) println(formatHistoryLine(e, p));
    }
    return 0;
  } finally {
    await target.close();
  }
}
