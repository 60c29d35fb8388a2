/** The report part's public surface: build a model, render it, or run `cutover report` end to end. */
export { buildReport, DEFAULT_LIMITS, DEFAULT_MISMATCH_THRESHOLD, type BuildInput } from './build.js';
export { renderHtml } from './html.js';
export { renderJson } from './json.js';
export { renderMarkdown } from './markdown.js';
export { evaluateGate, type GateOptions } from './gate.js';
export { generateReport, render, type GenerateResult } from './generate.js';
export { parseReportOptions, REPORT_FORMATS, type ReportFormat, type ReportRequest } from './options.js';
export { REPORT_SCHEMA_VERSION } from './model.js';
export type * from './model.js';
