/**
 * The pure side of changes by service: a set of routes changes in one transition, a service name
 * resolves to exactly the routes whose V2 side it is (or is refused naming `upstream`), and a
 * break-glass override written before services (`route: X`) still reads as that one route.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../shared/config.js';
import { isCutoverError } from '../../shared/errors.js';
import { abort, LocalReplicaFiles, promote, resolveUpstream, setMode, setWeight, type RolloutState } from '../../shared/state/index.js';
import { routeSidesOf, routesOfUpstream } from '../../shared/upstream-routes.js';
import { tempDir } from '../helpers/processes.js';

const state: RolloutState = {
  schemaVersion: 1,
  version: 3,
  routes: { tx: { mode: 'canary', weight: 50 }, statement: { mode: 'canary', weight: 50 }, 'statement-pdf': { mode: 'mirror', weight: 0 }, default: { mode: 'legacy', weight: 0 } },
  paused: false,
  aborted: false,
  updatedBy: 't',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const config = parseConfigText(
  `upstreams: { legacy: http://127.0.0.1:4001, transactions-v2: http://127.0.0.1:4011, statements-v2: http://127.0.0.1:4012 }
defaultRoute: { v2: transactions-v2 }
routes:
  - { name: tx, match: { method: GET, path: /tx }, v2: transactions-v2 }
  - { name: statement, match: { method: GET, path: /s }, v2: statements-v2 }
  - { name: statement-pdf, match: { method: GET, path: /s.pdf }, v2: statements-v2 }
`,
  'services.yaml',
  {},
);

function thrown(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isCutoverError(err)) return { field: (err as { field?: string }).field ?? '', message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

describe('changes by service', () => {
  it('resolves a service to the routes whose V2 side it is, default route included', () => {
    const sides = routeSidesOf(config);
    expect(routesOfUpstream(sides, 'statements-v2')).toEqual(['statement', 'statement-pdf']);
    expect(routesOfUpstream(sides, 'transactions-v2')).toEqual(['tx', 'default']);
    const r = resolveUpstream({ upstream: 'statements-v2' }, sides);
    expect(r.req.routes).toEqual(['statement', 'statement-pdf']);
    expect(r.data).toEqual({ upstream: 'statements-v2', routes: ['statement', 'statement-pdf'] });
  });

  it('refuses a name that is no route\'s V2 side, naming upstream, the rule, the value and the V2 upstreams', () => {
    const sides = routeSidesOf(config);
    expect(thrown(() => routesOfUpstream(sides, 'wallets-v2'))).toEqual({
      field: 'upstream',
      message: 'upstream: must name the V2 side of at least one route: "wallets-v2" is the V2 side of no route; V2 upstreams: transactions-v2 (tx, default), statements-v2 (statement, statement-pdf)',
    });
    expect(thrown(() => routesOfUpstream(sides, 'legacy')).message).toContain('"legacy" is the legacy side of tx, statement, statement-pdf, default, not the V2 side of any route');
    expect(thrown(() => resolveUpstream({ upstream: 'statements-v2', route: 'tx' }, sides)).message).toContain('give a route or an upstream, not both');
    expect(thrown(() => resolveUpstream({ upstream: 'statements-v2' }, undefined)).field).toBe('upstream');
  });

  it('abort, set-weight, mode and promote --full change a set of routes in one transition', () => {
    const routes = ['statement', 'statement-pdf'];
    const a = abort(state, { reason: 'bad totals', routes });
    expect(a.next.routes).toEqual({ ...state.routes, statement: { mode: 'legacy', weight: 0 }, 'statement-pdf': { mode: 'legacy', weight: 0 } });
    expect(a.next.aborted).toBe(true);
    const w = setWeight(state, { routes, weight: 20 });
    expect(w.next.routes).toMatchObject({ statement: { mode: 'canary', weight: 20 }, 'statement-pdf': { mode: 'canary', weight: 20 }, tx: { mode: 'canary', weight: 50 } });
    // the --max-step guard applies to every route of the set (statement-pdf is at 0)
    expect(thrown(() => setWeight(state, { routes, weight: 60 })).message).toContain('raising statement-pdf from 0 to 60');
    expect(setWeight(state, { routes, weight: 60, force: true }).next.routes['statement-pdf']).toEqual({ mode: 'canary', weight: 60 });
    expect(setMode(state, { routes, mode: 'mirror' }).next.routes).toMatchObject({ statement: { mode: 'mirror' }, 'statement-pdf': { mode: 'mirror' }, tx: { mode: 'canary' } });
    expect(promote(state, { full: true, routes }).next.routes).toMatchObject({ statement: { mode: 'v2', weight: 100 }, tx: { mode: 'canary', weight: 50 } });
    expect(thrown(() => promote(state, { routes })).field).toBe('full');
    expect(thrown(() => abort(state, { reason: 'x', routes: ['statement', 'nope'] })).message).toContain('unknown route "nope"');
  });

  it('reads a break-glass override written before services (route: X) as that one route', () => {
    const dir = tempDir('cutover-override-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'override.json'), JSON.stringify({ id: 'o1', reason: 'r', by: 'b', at: '2026-01-01T00:00:00.000Z', route: 'statement' }));
    expect(new LocalReplicaFiles(dir, 'file:///x').loadOverride()).toEqual({ id: 'o1', reason: 'r', by: 'b', at: '2026-01-01T00:00:00.000Z', routes: ['statement'] });
  });
});
