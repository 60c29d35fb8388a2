/** The demo legacy and V2 accounting services: public surface. */
export { startServices, startService, DEFAULT_HOST, DEFAULT_LEGACY_PORT, DEFAULT_V2_PORT, DEFAULT_SEED } from './start.js';
export type { StartServicesOptions, RunningService, RunningServices } from './start.js';
export { createLegacyApp } from './legacy-app.js';
export type { ServiceApp, ServiceAppOptions } from './legacy-app.js';
export { createV2App } from './v2-app.js';
export type { V2AppOptions, V2ServiceApp } from './v2-app.js';
export { Ledger, encodeCursor } from './data/ledger.js';
export type { PostingRecord, ServiceName } from './data/ledger.js';
export { BIG_HIERARCHY_ID, ACCOUNT_COUNT, MEMBER_COUNT, WALLET_COUNT, accountId, memberId, walletId } from './data/dataset.js';
export { ENDPOINTS, ENDPOINT_NAMES } from './endpoints.js';
export type { Endpoint } from './endpoints.js';
export { FaultState, parseFaultMap, splitFaultArgs, knownKnobs, DEFAULT_KNOBS } from './faults.js';
export type { Knobs, KnobName } from './faults.js';
export { DEMO_API_KEYS } from './platform/api-keys.js';
export type { ApiKeyTable, KeySource } from './platform/api-keys.js';
export { SVC_ERR, ServiceError } from './errors.js';
