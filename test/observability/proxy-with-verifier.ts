/**
 * A proxy with the live verifier behind it, as its own process (`cutover proxy` does not wire
 * the verifier yet): `node --import tsx proxy-with-verifier.ts cutover.yaml`. Prints one JSON
 * line `{ dataUrl, adminUrl }` on stdout; logs go to stderr (the proxy's pino lines). SIGTERM
 * closes the proxy (flushing traces), then the verifier.
 */
import { loadConfig } from '../../shared/config.js';
import { startProxy } from '../../proxy/index.js';
import { VerifierPipeline } from '../../verifier/index.js';

const config = loadConfig(process.argv[2]!);
const pipeline = new VerifierPipeline({ config, workers: 0, source: 'observability test' });
const proxy = await startProxy({ config, pairSink: pipeline });
process.stdout.write(`${JSON.stringify({ dataUrl: proxy.dataUrl, adminUrl: proxy.adminUrl })}\n`);
process.once('SIGTERM', () => {
  void proxy
    .close()
    .then(() => pipeline.close(2000))
    .finally(() => process.exit(0));
});
