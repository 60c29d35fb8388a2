import { describe, expect, it } from 'vitest';
import { parseConfigText, substituteEnv } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';

const base = `
upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: canary
    weight: 10
    stickyBy: param:accountId
`;

function errorOf(text: string, env: NodeJS.ProcessEnv = {}): InputError {
  try {
    parseConfigText(text, 'cutover.yaml', env);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected the config to be refused');
}

describe('config validation', () => {
  it('accepts the documented example and fills defaults', () => {
    const cfg = parseConfigText(base, 'cutover.yaml', {});
    expect(cfg.routes[0].weight).toBe(10);
    expect(cfg.listen.admin).toBe('127.0.0.1:8081');
    expect(cfg.state).toBe('file://.cutover/state.json');
    expect(cfg.defaultRoute.mode).toBe('legacy');
    expect(cfg.routes[0].compare.headers).toEqual(['content-type']);
  });

  it('freezes the validated config deeply', () => {
    const cfg = parseConfigText(base, 'cutover.yaml', {});
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.routes[0].match)).toBe(true);
  });

  it('names the path and the rule for an out-of-range weight', () => {
    const err = errorOf(base.replace('weight: 10', 'weight: 120'));
    expect(err.message).toContain('routes[0].weight: must be between 0 and 100');
    expect(err.exitCode).toBe(2);
  });

  it('takes compare.timestamp entries as pointers or as { path, epoch }, and names a bad unit', () => {
    const withTs = (ts: string) => base.replace('stickyBy: param:accountId', `stickyBy: param:accountId\n    compare: { timestamp: ${ts} }`);
    const cfg = parseConfigText(withTs('[/asOf, { path: /created, epoch: s }]'), 'cutover.yaml', {});
    expect(cfg.routes[0].compare.timestamp).toEqual(['/asOf', { path: '/created', epoch: 's' }]);
    const msg = errorOf(withTs('[{ path: /created, epoch: minutes }]')).message;
    expect(msg).toContain('routes[0].compare.timestamp[0]');
    expect(msg).toContain('epoch: s|ms|us|ns');
  });

  it('refuses a weight with more than two decimals', () => {
    expect(errorOf(base.replace('weight: 10', 'weight: 10.125')).message).toContain('routes[0].weight: must have at most two decimals');
  });

  it('refuses unknown keys', () => {
    expect(errorOf(base.replace('mode: canary', 'mode: canary\n    wieght: 3')).message).toContain('routes[0].wieght: unknown key');
  });

  it('refuses an unknown mode', () => {
    expect(errorOf(base.replace('mode: canary', 'mode: shadow')).message).toContain('routes[0].mode: must be one of');
  });

  it('refuses a sticky param the path does not have', () => {
    expect(errorOf(base.replace('param:accountId', 'param:memberId')).message).toContain('routes[0].stickyBy');
  });

  it('refuses duplicate route names', () => {
    const text = base + `  - name: balance\n    match: { method: GET, path: /x }\n`;
    expect(errorOf(text).message).toContain('routes[1].name: duplicates routes[0].name');
  });

  it('requires the upstreams', () => {
    expect(errorOf('routes: []').message).toContain('upstreams: is required');
  });

  it('refuses a non-URL upstream', () => {
    expect(errorOf(base.replace('http://127.0.0.1:4002', 'localhost:4002')).message).toContain('upstreams.v2: must be an http');
  });

  it('refuses invalid YAML with the file named', () => {
    expect(errorOf('upstreams: [').message).toMatch(/cutover.yaml: is not valid YAML/);
  });

  it('substitutes ${ENV} and ${ENV:-default}', () => {
    expect(substituteEnv('a ${X} b ${Y:-dflt}', { X: '1' })).toBe('a 1 b dflt');
    const cfg = parseConfigText(base.replace('http://127.0.0.1:4002', '${V2_URL}'), 'c', { V2_URL: 'http://127.0.0.1:9999' });
    expect(cfg.upstreams.v2).toBe('http://127.0.0.1:9999');
  });

  it('names an unset variable', () => {
    expect(errorOf(base.replace('http://127.0.0.1:4002', '${NOPE_V2}')).message).toContain('${NOPE_V2} is not set');
  });
});
