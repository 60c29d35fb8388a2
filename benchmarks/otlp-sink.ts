/**
 * Benchmark OTLP/HTTP receiver: accepts `POST /v1/traces` (protobuf or JSON), counts the bytes
 * and answers 200 without decoding. Prints `listening PORT`; on SIGTERM prints `received N
 * requests, B bytes` and exits.
 */
import http from 'node:http';

let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (c: Buffer) => (bytes += c.length));
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf', 'content-length': 0 });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`received ${requests} requests, ${bytes} bytes\n`);
  process.exit(0);
});
