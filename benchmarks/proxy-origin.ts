/**
 * Benchmark origin: a small node:http server answering every request with a ~600-byte JSON
 * balance. Prints `listening PORT BYTES` once bound. `--name` picks the body:
 * - `legacy`: the balance as legacy writes it;
 * - `v2`: the same facts written the way a rewrite does (keys in another order, so the bodies
 *   are not byte-identical and every pair has to be parsed and compared to find they agree);
 * - `v2-wrong`: as v2, with `available` one cent off (every pair a mismatch: the worst case).
 * `--addresses N`: also listen on 127.0.0.2 .. 127.0.0.N at the same port (N services' URLs
 * served by one process, so a setup with N V2 services puts no more processes on the origin core).
 */
import http from 'node:http';

const name = process.argv[process.argv.indexOf('--name') + 1] ?? 'legacy';
const balance = {
  accountId: 'ACC-000123',
  currency: 'EUR',
  balance: '15234.57',
  available: '14980.12',
  pending: '254.45',
  overdraftLimit: '1000.00',
  asOf: '2026-11-23T00:00:00.000Z',
  holds: [
    { id: 'H-1', amount: '100.00', reason: 'card authorisation', createdAt: '2026-11-22T10:11:12.000Z' },
    { id: 'H-2', amount: '154.45', reason: 'pending transfer', createdAt: '2026-11-22T18:01:02.000Z' },
  ],
  flags: { frozen: false, dormant: false, kycVerified: true },
  links: { self: '/accounts/ACC-000123/balance', transactions: '/accounts/ACC-000123/transactions?limit=50' },
  requestId: 'req-0000000000000000',
};
function rewritten(b: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(b).reverse());
}
const shaped = name === 'legacy' ? balance : name === 'v2-wrong' ? rewritten({ ...balance, available: '14980.13' }) : rewritten(balance);
const body = Buffer.from(JSON.stringify(shaped));

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
const ai = process.argv.indexOf('--addresses');
const addresses = ai >= 0 ? Number(process.argv[ai + 1]) : 1;
server.listen(0, '127.0.0.1', async () => {
  const port = (server.address() as { port: number }).port;
  for (let i = 2; i <= addresses; i++) {
    const more = http.createServer(server.listeners('request')[0] as http.RequestListener);
    more.keepAliveTimeout = 30_000;
    await new Promise<void>((r) => more.listen(port, `127.0.0.${i}`, () => r()));
    process.on('SIGTERM', () => more.close());
  }
  process.stdout.write(`listening ${port} ${body.length}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
