import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';

const base = `
upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }
listen: { data: 127.0.0.1:8080, admin: 127.0.0.1:8081 }
routes:
  - name: balance
    match: { method: GET, path: /accounts/:accountId/balance }
    mode: canary
    weight: 10
    stickyBy: param:accountId
    target: { v2: { param: { accountId: [T-1] }, header: { x-api-key: [proj-a] } } }
`;

function errorOf(text: string): string {
  try {
    parseConfigText(text, 'cutover.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

describe('proxy config rules', () => {
  it('accepts the base config', () => {
    expect(parseConfigText(base, 'cutover.yaml', {}).routes[0].target?.v2.param.accountId).toEqual(['T-1']);
  });

  it('refuses targeting a param the path does not have', () => {
    expect(errorOf(base.replace('param: { accountId: [T-1] }', 'param: { memberId: [M-1] }'))).toContain(
      'routes[0].target.v2.param.memberId: match.path /accounts/:accountId/balance has no :memberId',
    );
  });

  it('refuses targeting by a header only the proxy sets', () => {
    expect(errorOf(base.replace('x-api-key: [proj-a]', 'x-cutover-upstream: [v2]'))).toContain(
      'routes[0].target.v2.header.x-cutover-upstream: is set by the proxy; clients cannot pick a side',
    );
  });

  it('refuses a path naming the same param twice', () => {
    expect(errorOf(base.replace('/accounts/:accountId/balance', '/accounts/:accountId/balance/:accountId'))).toContain(
      'routes[0].match.path: names param :accountId twice',
    );
  });

  it('refuses the admin plane on the data plane port', () => {
    expect(errorOf(base.replace('admin: 127.0.0.1:8081', 'admin: 127.0.0.1:8080'))).toContain('listen.admin: uses the same port as listen.data');
  });

  it('refuses a param sticky key on the default route', () => {
    expect(errorOf(base + 'defaultRoute: { stickyBy: param:accountId }\n')).toContain('defaultRoute.stickyBy: the default route has no path params');
  });

  it('refuses a path with ".."', () => {
    expect(errorOf(base.replace('/accounts/:accountId/balance', '/accounts/../admin'))).toContain('routes[0].match.path: must start with / and contain no spaces or ".."');
  });

  it('refuses a mirror sample over 100 %', () => {
    expect(errorOf(base.replace('mode: canary', 'mode: mirror\n    mirror: { sample: 150 }'))).toContain('routes[0].mirror.sample: must be between 0 and 100');
  });

  it('refuses a non-positive mirror in-flight cap', () => {
    expect(errorOf(base.replace('mode: canary', 'mode: mirror\n    mirror: { maxInFlight: 0 }'))).toContain('routes[0].mirror.maxInFlight');
  });

  it('refuses a short admin token', () => {
    expect(errorOf(base + 'adminToken: short\n')).toContain('adminToken: must be at least 16 characters');
  });

  it('refuses a listen address without a port', () => {
    expect(errorOf(base.replace('data: 127.0.0.1:8080', 'data: 127.0.0.1'))).toContain('listen.data: must be HOST:PORT');
  });

  it('refuses a stats window under 10 s', () => {
    expect(errorOf(base + 'stats: { windowSeconds: 5 }\n')).toContain('stats.windowSeconds');
  });
});
