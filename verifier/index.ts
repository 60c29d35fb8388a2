/** The verifier's public surface: compare pairs, book verdicts, run the live pipeline, verify offline. */
export { comparePair, compareResponses, diffValues, findingsToPatch, type CompareSettings } from './compare.js';
export { VerifierPipeline, type PipelineOptions } from './pipeline.js';
export { VerdictBook, type BookOptions } from './book.js';
export { Aggregator, signedDeltaQuantile } from './aggregate.js';
export { NoiseTracker, type NoiseSettings } from './noise.js';
export { Redactor, REDACTED, type RedactSettings } from './redact.js';
export { WaiverIndex, buildWaiver, parseExpiry, isActive, addWaiverTo, removeWaiverFrom, WAIVER_KINDS } from './waivers.js';
export { addWaiver, removeWaiver, listWaivers } from './waiver-store.js';
export { routeSettingsFromConfig, settingsFor, type RouteSettingsTable } from './rules.js';
export { verifyPairsFile, replayRequestsFile } from './offline.js';
export { RecentVerdicts } from './recent.js';
export * from './types.js';
export * from './errors.js';
