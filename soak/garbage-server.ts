/**
 * A stand-in V2 that answers garbage on V2's port: `node --import tsx soak/garbage-server.ts PORT MODE`.
 * - truncated-json: declares a JSON body of 400 bytes, sends 40, then cuts the connection;
 * - wrong-content-type: a 200 with an HTML body where JSON is expected;
 * - huge-body: a 200 JSON body of 10 MB.
 * Health checks get a normal answer so nothing mistakes it for a dead process.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const mode = process.argv[3] ?? 'truncated-json';
const HUGE = Buffer.from(`{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);

const server = createServer((req, res) => {
  req.resume();
  if (req.url === '/healthz' || req.url?.startsWith('/_admin/')) {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","service":"garbage"}');
    return;
  }
  if (mode === 'truncated-json') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '400' });
    res.write('{"accountId":"A-000001","balance":12.5,"ho');
    setTimeout(() => res.socket?.destroy(), 5);
  } else if (mode === 'wrong-content-type') {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>not json</body></html>');
  } else {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(HUGE.length) }).end(HUGE);
  }
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`garbage listening on ${port} (${mode})\n`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
