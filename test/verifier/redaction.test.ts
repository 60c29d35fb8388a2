/**
 * A planted secret must not appear in anything the verifier keeps, writes or serves: memory
 * (aggregates, /admin/diffs-style queries, stats), the JSONL files, the Redis stream, and
 * `cutover verify` output (text, JSON, --out). The differences themselves are still reported.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { VerifierPipeline } from '../../verifier/pipeline.js';
import { runCutover, startRedis, stopAll, tempDir } from '../helpers/processes.js';
import { makePair } from './helpers.js';

const SECRET = 'S3CR3T-planted-7781';
afterAll(stopAll);

const yaml = `
upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:id/balance }
    compare:
      headers: [content-type, set-cookie, authorization]
redact:
  paths: [/customer/ssn, /cards/*/number, /password]
`;

function plantedPairs() {
  const headers = { 'content-type': 'application/json', 'set-cookie': `sid=${SECRET}`, authorization: `Bearer ${SECRET}` };
  const v2Headers = { 'content-type': 'application/json', 'set-cookie': `sid=${SECRET}-v2`, authorization: `Bearer ${SECRET}-v2` };
  return [
    // secret values differ on redacted paths; a whole object holding a secret goes missing
    makePair(
      { headers, body: { customer: { ssn: SECRET, name: 'Ann' }, cards: [{ number: SECRET, limit: 5 }], balance: '1.00' } },
      { headers: v2Headers, body: { customer: { ssn: `${SECRET}-v2`, name: 'Ann' }, balance: '1.00' } },
      { id: 'p1', path: `/accounts/1/balance?token=${SECRET}&x=1`, requestHeaders: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET } },
    ),
    // a card array element that differs as a whole
    makePair({ body: { cards: [{ number: SECRET, limit: 1 }] } }, { body: { cards: [{ number: `${SECRET}9`, limit: 2 }] } }, { id: 'p2' }),
    // a body that is not JSON, with the secret in a redacted field name
    makePair({ headers: { 'content-type': 'text/plain' }, body: `broken {"password": "${SECRET}"` }, { headers: { 'content-type': 'text/plain' }, body: 'other' }, { id: 'p3' }),
  ];
}

describe('redaction of a planted secret', () => {
  it('keeps it out of memory, files and the Redis stream, while still reporting the differences', async () => {
    const redis = await startRedis();
    const dir = tempDir();
    const config = parseConfigText(yaml);
    const p = new VerifierPipeline({ workers: 1, config, diffDir: dir, redisUrl: redis.url, streamKey: 'redact:test' });
    try {
      for (const pair of plantedPairs()) expect(p.offer(pair)).toBe(true);
      await p.drain();
      const deadline = Date.now() + 10_000;
      while (p.stats().redis!.added < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const outputs: Record<string, string> = {
        snapshot: JSON.stringify(p.snapshot()),
        query: JSON.stringify(p.query({ limit: 100 })),
        queryByPath: JSON.stringify(p.query({ path: '/customer/ssn' })),
        stats: JSON.stringify(p.stats()),
        files: readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'),
      };
      const client = new Redis(redis.url);
      try {
        outputs.redis = JSON.stringify(await client.xrange('redact:test', '-', '+'));
      } finally {
        client.disconnect();
      }
      for (const [where, text] of Object.entries(outputs)) expect(text.includes('S3CR3T'), `secret found in ${where}`).toBe(false);
      // the differences are still there
      const v1 = p.query({ route: 'balance' }).find((v) => v.pairId === 'p1')!;
      expect(v1.findings.map((f) => `${f.path} ${f.kind}`).sort()).toEqual([
        '/cards missing',
        '/customer/ssn value',
        '@headers/authorization value',
        '@headers/set-cookie value',
      ]);
      expect(v1.findings.find((f) => f.path === '/cards')!.legacy).toEqual([{ number: '[REDACTED]', limit: 5 }]);
      expect(v1.path).toBe('/accounts/1/balance?token=[REDACTED]&x=1');
      expect(outputs.files.split('\n').filter(Boolean).length).toBe(3);
      expect(outputs.redis).toContain('p1');
    } finally {
      await p.close();
      await redis.stop();
    }
  });

  it('keeps it out of cutover verify output (text, JSON and --out)', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'cutover.yaml');
    writeFileSync(cfg, yaml);
    const pairs = join(dir, 'pairs.jsonl');
    writeFileSync(pairs, plantedPairs().map((x) => JSON.stringify(x)).join('\n') + '\n');
    const out = join(dir, 'verdicts.jsonl');
    const text = await runCutover(['verify', '--pairs', pairs, '--config', cfg, '--out', out]);
    const json = await runCutover(['verify', '--pairs', pairs, '--config', cfg, '--json']);
    expect(text.code).toBe(1);
    expect(json.code).toBe(1);
    for (const [where, s] of Object.entries({ stdout: text.stdout, stderr: text.stderr, json: json.stdout, out: readFileSync(out, 'utf8') })) {
      expect(s.includes('S3CR3T'), `secret found in ${where}`).toBe(false);
    }
    expect(text.stdout).toContain('/customer/ssn');
  });
});
