/**
 * Benchmark reference for mirror mode: bare Fastify 5 + @fastify/http-proxy plus the least a
 * mirror must do, a fire-and-forget copy of each request to V2 through an undici Pool (body
 * drained, nothing captured or counted). Prints `listening PORT`.
 */
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { Pool } from 'undici';

const arg = (name: string) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const pool = new Pool(arg('v2'), { connections: 128 });
const app = Fastify({ logger: false });
app.addHook('onRequest', (req, _reply, done) => {
  pool.request({ path: req.url, method: 'GET', headers: req.headers }).then(
    (r) => r.body.dump(),
    () => undefined,
  );
  done();
});
await app.register(fastifyHttpProxy, { upstream: arg('upstream') });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
