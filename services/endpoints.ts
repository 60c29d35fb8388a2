/**
 * The business endpoints both services serve, by name. The names are the ones used for
 * per-endpoint fault knobs (`latencyMs:balance=200`), for API-key permissions and for the
 * routes of examples/demo.cutover.yaml.
 */
export const ENDPOINTS = {
  balance: { method: 'GET', path: '/accounts/:accountId/balance', readOnly: true },
  transactions: { method: 'GET', path: '/accounts/:accountId/transactions', readOnly: true },
  'post-transaction': { method: 'POST', path: '/transactions', readOnly: false },
  statement: { method: 'GET', path: '/accounts/:accountId/statements/:period', readOnly: true },
  member: { method: 'GET', path: '/members/:memberId', readOnly: true },
  wallet: { method: 'GET', path: '/wallets/:walletId', readOnly: true },
  'hierarchy-balance': { method: 'GET', path: '/hierarchies/:hierarchyId/balance', readOnly: true },
} as const;

export type Endpoint = keyof typeof ENDPOINTS;
export const ENDPOINT_NAMES = Object.keys(ENDPOINTS) as Endpoint[];

export function isEndpoint(name: string): name is Endpoint {
  return Object.prototype.hasOwnProperty.call(ENDPOINTS, name);
}
