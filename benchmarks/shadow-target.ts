/**
 * Benchmark subject: `cutover shadow` (built, from dist/) in front of the benchmark origins,
 * every route in mirror mode, the verifier on. Prints `listening PORT`, then `admin URL`.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('shadow/index.js', DIST))) throw new Error('dist/ is missing: run `npm run build` first');
const { parseConfigText } = (await import(new URL('shared/config.js', DIST).href)) as typeof import('../shared/config.js');
const { startShadow } = (await import(new URL('shadow/index.js', DIST).href)) as typeof import('../shadow/index.js');

const arg = (name: string) => process.argv[process.argv.indexOf(`--${name}`) + 1];
const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-shadow-'));
const config = parseConfigText(
  `
upstreams: { legacy: ${arg('legacy')}, v2: ${arg('v2')} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
shadow: { listen: 127.0.0.1:0, maxConcurrent: 512, queueSize: 4096 }
state: file://${join(dir, 'state.json')}
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    mirror: { sample: 100, maxInFlight: 512 }
`,
  'bench',
  {},
);
process.env.CUTOVER_LOG_LEVEL = 'warn';
const shadow = await startShadow({ config });
process.stdout.write(`listening ${new URL(shadow.shadowUrl).port}\nadmin ${shadow.adminUrl}\n`);
process.on('SIGTERM', () => void shadow.close().then(() => process.exit(0)));
