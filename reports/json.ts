/** The JSON report: the model itself, `schemaVersion` first, for CI gates and other tools. */
import type { ReportModel } from './model.js';

export function renderJson(model: ReportModel): string {
  const { schemaVersion, ...rest } = model;
  return `${JSON.stringify({ schemaVersion, ...rest }, null, 2)}\n`;
}
