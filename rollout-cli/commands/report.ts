/**
 * `cutover report`: writes an HTML, JSON or Markdown report and prints its path. Exit 1 when a
 * gate asked for (--fail-on-mismatch-rate, --fail-on-open-findings) fails, 2 on bad input.
 */
import { generateReport } from '../../reports/generate.js';
import { parseReportOptions } from '../../reports/options.js';

export async function run(_args: string[], opts: Record<string, unknown>): Promise<number> {
  const req = parseReportOptions(opts);
  const { model, path } = await generateReport(req);
  process.stdout.write(`${path}\n`);
  if (model.gate.failed) {
    for (const f of model.gate.failures) process.stderr.write(`cutover report: gate failed: ${f}\n`);
    return 1;
  }
  return 0;
}
