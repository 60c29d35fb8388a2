/**
 * Secrets planted in query parameters, headers and bodies under names that only a pattern
 * catches (auth_token, sessionid, X-Amz-Signature, x-client-secret...) never reach a sink: the
 * proxy's log (at debug, one line per request), the request recording, the verdict files, the
 * Redis verdict stream, /admin/diffs and a report built from the admin API. Idempotency-Key
 * stays intact in the recording, and an unsafe request is recorded, marked, its body redacted.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { startProxy } from '../../proxy/index.js';
import { createProxyLogger } from '../../proxy/logging.js';
import { generateReport } from '../../reports/generate.js';
import { DEFAULT_STREAM_KEY } from '../../verifier/sink-redis.js';
import { startRedis, stopAll, tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin, waitFor } from './origins.js';

afterAll(stopAll);

const TOKEN = 'sweep-admin-token-0123456789';
const MARK = 'SEKRIT';
const s = (n: number) => `${MARK}-${n}-x`;

describe('the secret-pattern sweep across every sink', () => {
  it('keeps every pattern-named secret out of logs, recordings, verdicts, the Redis stream, /admin/diffs and reports', async () => {
    const redis = await startRedis();
    const dir = tempDir();
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    // Both sides answer with a session token (a secret-named key) and a balance that differs.
    legacy.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-session-token': s(90) });
      res.end(JSON.stringify({ balance: '100.25', sessionToken: s(91), owner: 'Ann' }));
    };
    v2.respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-session-token': s(92) });
      res.end(JSON.stringify({ balance: '100.26', sessionToken: s(93), owner: 'Ann' }));
    };
    const config = parseConfigText(
      `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: ${redis.url}
adminToken: ${TOKEN}
record: { file: ${dir}/rec/requests.jsonl }
verifier: { diffDir: ${dir}/diffs, workers: 0 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: mirror
    compare: { headers: [content-type, x-session-token] }
  - name: payments
    match: { method: POST, path: /payments }
    mode: legacy
`,
      'sweep.yaml',
      {},
    );
    const logLines: string[] = [];
    const log = createProxyLogger({ level: 'debug', write: (l) => logLines.push(l), redactHeaders: config.redact.headers, redactPatterns: config.redact.patterns });
    const proxy = await startProxy({ config, log });
    try {
      const get = await rawRequest(proxy.dataUrl, {
        path: `/accounts/A-1/balance?auth_token=${s(1)}&sessionid=${s(2)}&token=${s(3)}&X-Amz-Signature=${s(4)}&api-key=${s(5)}&page=2`,
        headers: {
          'x-session-token': s(6),
          'proxy-authorization': `Basic ${s(7)}`,
          authorization: `Bearer ${s(8)}`,
          'x-client-secret': s(9),
          'idempotency-key': 'IDEM-KEEP-1',
        },
      });
      expect(get.status).toBe(200);
      const post = await rawRequest(proxy.dataUrl, {
        method: 'POST',
        path: `/payments?access_key=${s(10)}`,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'IDEM-KEEP-2', 'x-api-credential': s(11) },
        body: JSON.stringify({ amount: '5.00', password: s(12), card: { private_key: s(13), last4: '4242' } }),
      });
      expect(post.status).toBe(200);
      // The secrets really were on the wire: legacy received them.
      expect(legacy.seen.map((x) => x.url).join(' ')).toContain(s(1));
      expect(legacy.seen.find((x) => x.method === 'POST')?.body).toContain(s(12));

      await waitFor(() => (proxy.verifier?.stats().verified ?? 0) >= 1, 20_000);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const diffs = await rawRequest(proxy.adminUrl, { path: '/admin/diffs?limit=100', headers: auth });
      const summary = await rawRequest(proxy.adminUrl, { path: '/admin/diffs/summary', headers: auth });
      expect(diffs.status).toBe(200);
      expect(summary.status).toBe(200);
      const diffsText = diffs.body.toString();
      // not vacuous: the verdict is there, with its path and the differing balance
      expect(diffsText).toContain('auth_token=[REDACTED]');
      expect(diffsText).toContain('100.26');

      const client = new Redis(redis.url);
      let stream = '';
      try {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          stream = JSON.stringify(await client.xrange(DEFAULT_STREAM_KEY, '-', '+'));
          if (stream.includes('auth_token')) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        client.disconnect();
      }
      expect(stream).toContain('auth_token=[REDACTED]');

      const reports: string[] = [];
      for (const format of ['json', 'md', 'html'] as const) {
        const out = join(dir, `report.${format}`);
        await generateReport({ admin: proxy.adminUrl, config: join(dir, 'none.yaml'), configExplicit: false, since: null, format, out, maxMismatchRate: null, failOnOpenFindings: false, token: TOKEN });
        reports.push(readFileSync(out, 'utf8'));
      }
      expect(reports[0]).toContain('balance');

      await proxy.close();
      const recording = readFileSync(join(dir, 'rec', 'requests.jsonl'), 'utf8');
      const verdictFiles = readdirSync(join(dir, 'diffs')).map((f) => readFileSync(join(dir, 'diffs', f), 'utf8')).join('\n');
      expect(verdictFiles).toContain('auth_token=[REDACTED]');

      const sinks: Record<string, string> = {
        logs: logLines.join(''),
        recording,
        verdictFiles,
        redisStream: stream,
        adminDiffs: diffsText,
        adminSummary: summary.body.toString(),
        reportJson: reports[0]!,
        reportMarkdown: reports[1]!,
        reportHtml: reports[2]!,
      };
      writeFileSync(join(dir, 'sinks.json'), JSON.stringify(sinks));
      for (const [name, text] of Object.entries(sinks)) {
        const at = text.indexOf(MARK);
        expect(at === -1 ? '' : `${name}: ...${text.slice(Math.max(0, at - 80), at + 20)}`).toBe('');
      }
      // the debug log really logged the request (with its masked query), so the check above means something
      expect(sinks.logs).toContain('sessionid=[REDACTED]');

      const lines = recording.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const g = lines.find((l) => l.method === 'GET')!;
      const p = lines.find((l) => l.method === 'POST')!;
      expect(g.headers['idempotency-key']).toBe('IDEM-KEEP-1');
      expect(g.headers['proxy-authorization']).toBe('[REDACTED]');
      expect(g.path).toBe('/accounts/A-1/balance?auth_token=[REDACTED]&sessionid=[REDACTED]&token=[REDACTED]&X-Amz-Signature=[REDACTED]&api-key=[REDACTED]&page=2');
      expect(p).toMatchObject({ unsafe: true, bodyRedacted: true, path: '/payments?access_key=[REDACTED]', route: 'payments' });
      expect(p.headers['idempotency-key']).toBe('IDEM-KEEP-2');
      expect(JSON.parse(p.body)).toEqual({ amount: '5.00', password: '[REDACTED]', card: { private_key: '[REDACTED]', last4: '4242' } });
    } finally {
      await proxy.close();
      await legacy.close();
      await v2.close();
    }
  }, 120_000);
});
