/**
 * Benchmark origin with large answers: every request gets one JSON statement of about
 * `--bytes` bytes (default 2 MB). `--name v2` writes the same facts with keys in another order,
 * so legacy's and V2's bodies differ byte-wise and must be parsed to be found equal.
 * Prints `listening PORT BYTES` once bound.
 */
import http from 'node:http';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
};
const name = arg('name', 'legacy');
const target = Number(arg('bytes', String(2 * 1024 * 1024)));
const line = (i: number) => ({ id: `T-${i}`, amount: `${(i % 9973) + 0.25}`, currency: 'EUR', bookedAt: '2026-11-23T00:00:00.000Z', memo: 'card payment' });
const lines: unknown[] = [];
let size = 100;
for (let i = 0; size < target; i++) {
  const l = name === 'v2' ? Object.fromEntries(Object.entries(line(i)).reverse()) : line(i);
  lines.push(l);
  size += JSON.stringify(l).length + 1;
}
const body = Buffer.from(JSON.stringify({ accountId: 'ACC-000123', currency: 'EUR', transactions: lines }));

const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port} ${body.length}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
