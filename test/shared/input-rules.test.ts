/**
 * One assertion per input rule of issue 16 item 7 and the secret-name test of item 5: each rule
 * at its edge, the message naming the field, the rule and (when short) the value.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminTokenUnsetVar, loadConfig, MAX_VERIFIER_WORKERS, parseConfigText } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';
import { DEFAULT_SECRET_PATTERNS, REDACTED, SecretNames } from '../../shared/secrets.js';
import { storeUrlProblem } from '../../shared/store-url.js';
import { checkChangeMeta, MAX_REASON_BYTES } from '../../shared/state/meta-limits.js';
import { tempDir } from '../helpers/processes.js';

const base = `upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }\n`;
const route = (extra: string) => `${base}routes:\n  - { name: balance, match: { method: GET, path: /a/:id }${extra} }\n`;

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    return err as InputError;
  }
  throw new Error('expected a refusal');
}
const configError = (text: string, env: NodeJS.ProcessEnv = {}) => errorOf(() => parseConfigText(text, 'cutover.yaml', env)).message;

describe('config input rules', () => {
  it('says "expected number, got string" for a weight written as text, not "is required"', () => {
    expect(configError(route(', weight: "10"'))).toContain('routes[0].weight: must be a number (expected number, got string "10")');
    expect(configError(route(', weight: " 5 "'))).toContain('(expected number, got string " 5 ")');
    expect(configError(route(', weight: "10"'))).not.toContain('is required');
  });

  it('refuses a redis state URL with a non-numeric port or database, and keeps a password out of the message', () => {
    expect(configError(`${base}state: redis://127.0.0.1:notaport/0\n`)).toMatch(/state: port "notaport" must be a number between 1 and 65535/);
    expect(configError(`${base}state: redis://127.0.0.1:6379/x\n`)).toMatch(/state: database "x" must be a number/);
    const withPassword = configError(`${base}state: redis://:hunter2@127.0.0.1:bad/0\n`);
    expect(withPassword).not.toContain('hunter2');
    expect(storeUrlProblem('redis://127.0.0.1:6379/0')).toBeUndefined();
    expect(storeUrlProblem('rediss://user:pw@[::1]:6380/2?prefix=x')).toBeUndefined();
    expect(storeUrlProblem('redis://127.0.0.1:0/0')).toMatch(/between 1 and 65535/);
  });

  it('bounds verifier.workers at twice the cores, and timers at the longest timer', () => {
    expect(parseConfigText(`${base}verifier: { workers: ${MAX_VERIFIER_WORKERS} }\n`, 'c', {}).verifier.workers).toBe(MAX_VERIFIER_WORKERS);
    expect(configError(`${base}verifier: { workers: ${MAX_VERIFIER_WORKERS + 1} }\n`)).toMatch(/verifier\.workers: must be at most \d+ \(twice the \d+ cores/);
    expect(parseConfigText(route(', timeoutMs: 2147483647'), 'c', {}).routes[0]!.timeoutMs).toBe(2147483647);
    expect(configError(route(', timeoutMs: 2147483648'))).toMatch(/routes\[0\]\.timeoutMs: must be at most 2147483647/);
  });

  it('refuses an empty default route name and a replicaId that is not a plain name', () => {
    expect(configError(`${base}defaultRoute: { name: "" }\n`)).toMatch(/defaultRoute\.name: must be 1 to 100 letters/);
    expect(configError(`${base}replicaId: "a b"\n`)).toMatch(/replicaId: must be 1 to 128 letters/);
    expect(configError(`${base}replicaId: "r\u00e9plica"\n`)).toMatch(/replicaId:/);
    expect(parseConfigText(`${base}replicaId: proxy-1.eu:8081\n`, 'c', {}).replicaId).toBe('proxy-1.eu:8081');
  });

  it('refuses a config file that is not UTF-8, naming the line', () => {
    const file = join(tempDir(), 'cutover.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from(`${base}replicaId: `), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]));
    expect(errorOf(() => loadConfig(file, {})).message).toMatch(/is not valid UTF-8 text \(line 2\)/);
  });

  it('reports every problem in one pass: field errors, cross-field rules and unset variables together', () => {
    const text = `upstreams: { legacy: \${NOPE_A}, v2: http://127.0.0.1:4002 }
verifier: { workers: 99999 }
routes:
  - { name: x, match: { method: GET, path: /a }, weight: "10" }
  - { name: x, match: { method: GET, path: /b } }
  - { name: y, match: { method: GET, path: /c }, stickyBy: "param:nope" }
`;
    const m = configError(text);
    expect(m).toContain('upstreams.legacy: ${NOPE_A} is not set in the environment');
    expect(m).toContain('verifier.workers: must be at most');
    expect(m).toContain('routes[0].weight: must be a number');
    expect(m).toContain('routes[1].name: duplicates routes[0].name "x"');
    expect(m).toContain('routes[2].stickyBy: names param "nope"');
  });

  it('an adminToken naming an unset variable leaves the token absent (verbs work) and remembers the name (the proxy refuses)', () => {
    const cfg = parseConfigText(`${base}adminToken: \${MY_TOKEN}\n`, 'c', {});
    expect(cfg.adminToken).toBeUndefined();
    expect(adminTokenUnsetVar(cfg)).toBe('MY_TOKEN');
    const set = parseConfigText(`${base}adminToken: \${MY_TOKEN}\n`, 'c', { MY_TOKEN: 'a-token-of-16-chars-or-more' });
    expect(set.adminToken).toBe('a-token-of-16-chars-or-more');
    expect(adminTokenUnsetVar(set)).toBeUndefined();
    // anywhere else, an unset variable is an error naming the field
    expect(configError(`${base}replicaId: \${MY_ID}\n`)).toContain('replicaId: ${MY_ID} is not set in the environment');
    // and a commented-out reference is no error at all
    expect(parseConfigText(`${base}# adminToken: \${MY_TOKEN}\n`, 'c', {}).adminToken).toBeUndefined();
  });

  it('bounds reason, by and ticket before anything is written', () => {
    expect(() => checkChangeMeta({ reason: 'x'.repeat(MAX_REASON_BYTES) })).not.toThrow();
    expect(errorOf(() => checkChangeMeta({ reason: 'x'.repeat(MAX_REASON_BYTES + 1) })).message).toMatch(/^reason: must be at most 4096 bytes \(got 4097\)/);
    expect(errorOf(() => checkChangeMeta({ by: 'é'.repeat(200) })).message).toMatch(/^by: must be at most 256 bytes/);
  });
});

describe('secret names', () => {
  const names = new SecretNames();
  it('catches every default pattern inside a longer name, in any case', () => {
    for (const p of DEFAULT_SECRET_PATTERNS) {
      expect([p, names.has(`x-my-${p.toUpperCase()}-1`)]).toEqual([p, true]);
    }
    for (const n of ['auth_token', 'sessionid', 'X-Amz-Signature', 'x-client-secret', 'proxy-authorization', 'Cookie', 'db_passwd']) expect([n, names.has(n)]).toEqual([n, true]);
  });

  it('leaves Idempotency-Key and ordinary names alone', () => {
    for (const n of ['idempotency-key', 'Idempotency-Key', 'x-idempotency-key', 'accept', 'content-type', 'page', 'accountId', 'x-request-id']) expect([n, names.has(n)]).toEqual([n, false]);
  });

  it('takes configured names and patterns instead of the defaults', () => {
    const custom = new SecretNames({ headers: ['x-tenant'], patterns: ['pin'] });
    expect(custom.has('X-Tenant')).toBe(true);
    expect(custom.has('card_pin')).toBe(true);
    expect(custom.has('auth_token')).toBe(false);
  });

  it('masks query values by name (percent-encoded names too) and keeps the rest of the URL', () => {
    expect(names.url('/a?auth%5Ftoken=s1&page=2&sessionid=s2#frag')).toBe(`/a?auth%5Ftoken=${REDACTED}&page=2&sessionid=${REDACTED}#frag`);
    expect(names.url('/a?key=s3&sig=s4&x')).toBe(`/a?key=${REDACTED}&sig=${REDACTED}&x`);
    expect(names.url('/plain')).toBe('/plain');
  });

  it('masks secret-named keys in JSON and text bodies, keeping structure and other values', () => {
    expect(names.json({ user: 'ann', auth: { token: 't', scheme: 'bearer' }, apiKeys: ['k1'] })).toEqual({ user: 'ann', auth: { token: REDACTED, scheme: 'bearer' }, apiKeys: REDACTED });
    expect(names.text('user=ann&password=hunter2&x=1')).toBe(`user=ann&password=${REDACTED}&x=1`);
    expect(names.text('{"password": "p", "amount": "5.00"}')).toBe(`{"password":"${REDACTED}","amount":"5.00"}`);
  });
});
