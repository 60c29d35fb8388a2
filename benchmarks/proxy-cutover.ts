/**
 * Benchmark subject: cutover's proxy in one mode (legacy | canary | mirror) in front of the
 * benchmark origins; `--verifier off` runs mirror mode without diffing, `--verifier discard`
 * captures every pair and drops it; `--max-body-bytes N` sets the route's maxBodyBytes;
 * `--three-routes` (canary): three canary routes at 50 % (balance, transactions, statements),
 * each sent to its own V2 service when `--v2s A,B,C` names three, else all to `--v2`. Prints
 * `listening PORT`, then `admin URL`.
 * Runs the built JavaScript in dist/ (what ships, worker threads included), not the sources
 * through tsx: `npm run bench*` build first.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = new URL('../dist/', import.meta.url);
if (!existsSync(new URL('proxy/index.js', DIST))) throw new Error('dist/ is missing: run `npm run build` first');
const { parseConfigText } = (await import(new URL('shared/config.js', DIST).href)) as typeof import('../shared/config.js');
const { startProxy } = (await import(new URL('proxy/index.js', DIST).href)) as typeof import('../proxy/index.js');

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const mode = arg('mode');
// --max-body-bytes N: the route's maxBodyBytes (how much of each answer a pair captures).
const maxBody = arg('max-body-bytes');
const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-'));
const route =
  mode === 'canary'
    ? 'mode: canary\n    weight: 10\n    stickyBy: param:accountId'
    : mode === 'mirror'
      ? `mode: mirror\n    mirror: { sample: 100, maxInFlight: 512 }${maxBody ? `\n    maxBodyBytes: ${Number(maxBody)}` : ''}`
      : 'mode: legacy';
const v2s = arg('v2s')?.split(',');
const SERVICES = ['balances-v2', 'transactions-v2', 'statements-v2'];
const threeRoutes = process.argv.includes('--three-routes')
  ? ['balance', 'transactions', 'statements']
      .map(
        (name, i) => `
  - name: ${name}
    match: { method: GET, path: /accounts/:accountId/${name} }${v2s ? `\n    v2: ${SERVICES[i]}` : ''}
    mode: canary
    weight: 50
    stickyBy: param:accountId`,
      )
      .join('')
  : undefined;
const upstreams = v2s
  ? `upstreams:\n  legacy: ${arg('legacy')}\n${SERVICES.map((s, i) => `  ${s}: ${v2s[i]}`).join('\n')}\ndefaultRoute: { v2: ${SERVICES[0]} }`
  : `upstreams: { legacy: ${arg('legacy')}, v2: ${arg('v2')} }`;
const config = parseConfigText(
  `
${upstreams}
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: file://${join(dir, 'state.json')}
routes:${
    threeRoutes ??
    `
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    ${route}`
  }
`,
  'bench',
  {},
);
process.env.CUTOVER_LOG_LEVEL = 'warn';
// --verifier off: copies and pairs, but no diffing (the pairs wait in the bounded queue, and once
// it is full no more are captured). --verifier discard: every pair captured and built, then
// dropped (what capture costs without the diff).
const verifier = arg('verifier');
const discard = { offer: () => true, hasRoom: () => true };
const proxy = await startProxy({ config, verifier: verifier === 'off' ? false : undefined, pairSink: verifier === 'discard' ? discard : undefined });
process.stdout.write(`listening ${new URL(proxy.dataUrl).port}\nadmin ${proxy.adminUrl}\n`);
process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
