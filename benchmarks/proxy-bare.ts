/** Benchmark baseline: bare Fastify 5 + @fastify/http-proxy to one upstream. Prints `listening PORT`. */
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const upstream = process.argv[process.argv.indexOf('--upstream') + 1];
const app = Fastify({ logger: false });
await app.register(fastifyHttpProxy, { upstream });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
