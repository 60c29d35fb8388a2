/**
 * Benchmark origin that hangs: a node:net server that accepts every connection and reads (and
 * discards) whatever is sent, but never writes a byte back. Stands in for a V2 that is up but
 * stuck. Prints `listening PORT` once bound; SIGTERM closes every socket and exits.
 */
import net from 'node:net';

const sockets = new Set<net.Socket>();
const server = net.createServer((socket) => {
  sockets.add(socket);
  // Read the requests (so the client's writes complete) and answer none of them.
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});
server.maxConnections = 10_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as net.AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
