/**
 * Named upstreams in cutover.yaml: the one-V2 shape reads as before; several V2 services are
 * named per route; bad names, unknown upstreams and a route whose two sides are one service
 * are refused naming the field.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';
import { routeUpstreams, upstreamSpecs } from '../../shared/upstreams.js';

function refused(text: string): string {
  try {
    parseConfigText(text, 'cutover.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).message;
  }
  throw new Error('expected the config to be refused');
}

const many = `
upstreams:
  legacy: http://127.0.0.1:4001
  transactions-v2: http://127.0.0.1:4011
  statements-v2: { url: http://127.0.0.1:4012, connections: 16, timeoutMs: 5000 }
  wallets-v2: http://127.0.0.1:4013
defaultRoute: { v2: transactions-v2 }
routes:
  - name: tx
    match: { method: GET, path: /tx }
    v2: transactions-v2
  - name: statements
    match: { method: GET, path: /statements }
    v2: statements-v2
  - name: wallets-move
    match: { method: GET, path: /wallets }
    legacy: transactions-v2
    v2: wallets-v2
`;

describe('named upstreams', () => {
  it('reads legacy + v2 as the two sides of every route, as before', () => {
    const cfg = parseConfigText('upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002, legacyReplica: http://127.0.0.1:4003 }\n', 'c', {});
    expect(upstreamSpecs(cfg).map((u) => [u.name, u.url, u.legacyReplica])).toEqual([
      ['legacy', 'http://127.0.0.1:4001', 'http://127.0.0.1:4003'],
      ['v2', 'http://127.0.0.1:4002', undefined],
    ]);
    const sides = routeUpstreams(cfg, cfg.defaultRoute);
    expect([sides.legacy.name, sides.v2.name]).toEqual(['legacy', 'v2']);
  });

  it('resolves each route to its own services, with per-upstream settings', () => {
    const cfg = parseConfigText(many, 'c', {});
    const names = cfg.routes.map((r) => {
      const s = routeUpstreams(cfg, r);
      return `${r.name}:${s.legacy.name}->${s.v2.name}`;
    });
    expect(names).toEqual(['tx:legacy->transactions-v2', 'statements:legacy->statements-v2', 'wallets-move:transactions-v2->wallets-v2']);
    const st = upstreamSpecs(cfg).find((u) => u.name === 'statements-v2')!;
    expect(st).toMatchObject({ connections: 16, timeoutMs: 5000, host: '127.0.0.1:4012', index: 2 });
  });

  it('refuses a route naming an unknown upstream, naming the field and the upstreams there are', () => {
    const msg = refused(many.replace('v2: statements-v2', 'v2: statement-v2'));
    expect(msg).toContain('routes[1].v2: names upstream "statement-v2", which upstreams does not define (defined: legacy, transactions-v2, statements-v2, wallets-v2)');
  });

  it('refuses a route left on the default v2 when no upstream is called v2', () => {
    const msg = refused(many.replace('defaultRoute: { v2: transactions-v2 }\n', ''));
    expect(msg).toMatch(/defaultRoute: sends its v2 side to upstream "v2" by default, which upstreams does not define/);
  });

  it('refuses one service on both sides of a route, by name and by URL', () => {
    expect(refused(many.replace('legacy: transactions-v2', 'legacy: wallets-v2'))).toContain('routes[2].v2: names the same upstream as its legacy side ("wallets-v2")');
    const sameUrl = many.replace('wallets-v2: http://127.0.0.1:4013', 'wallets-v2: http://127.0.0.1:4011/');
    expect(refused(sameUrl)).toContain('routes[2].v2: upstream "wallets-v2" has the same URL as its legacy side "transactions-v2"');
  });

  it('refuses names that are not labels, and bad entries, naming the field and value', () => {
    expect(refused(many.replace('wallets-v2: http://127.0.0.1:4013', 'Wallets V2: http://127.0.0.1:4013'))).toContain('upstreams.Wallets V2: is not a valid upstream name');
    expect(refused(many.replace('v2: statements-v2', 'v2: "statements v2"'))).toMatch(/routes\[1\]\.v2: must name an upstream/);
    expect(refused(many.replace('connections: 16', 'connections: 1'))).toMatch(/upstreams\.statements-v2/);
    expect(refused(many.replace('wallets-v2: http://127.0.0.1:4013', 'wallets-v2: ftp://x'))).toMatch(/upstreams\.wallets-v2/);
    expect(refused('upstreams: { transactions-v2: http://127.0.0.1:1, legacyReplica: http://127.0.0.1:2 }\ndefaultRoute: { legacy: transactions-v2, v2: transactions-v2 }\n')).toContain(
      'upstreams.legacyReplica: is the replica of the upstream called "legacy"',
    );
  });

  it('reports upstream problems together with other bad fields in one pass', () => {
    const msg = refused(many.replace('v2: statements-v2', 'v2: nope').replace('routes:\n', 'listen: { data: 1 }\nroutes:\n'));
    expect(msg).toContain('routes[1].v2: names upstream "nope"');
    expect(msg).toContain('listen.data');
  });
});
