import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStateStore, type StateStore } from '../../shared/state/index.js';
import { buildWaiver, parseExpiry, WaiverIndex } from '../../verifier/waivers.js';
import { addWaiver, listWaivers, removeWaiver } from '../../verifier/waiver-store.js';
import { VerdictBook } from '../../verifier/book.js';
import { comparePair } from '../../verifier/compare.js';
import { finishVerdict } from '../../verifier/verdict.js';
import { Redactor } from '../../verifier/redact.js';
import { makePair } from './helpers.js';
import { tempDir } from '../helpers/processes.js';

const NOW = new Date('2024-05-01T10:00:00Z');

describe('building a waiver', () => {
  it('templates the path and turns a duration into an expiry', () => {
    const w = buildWaiver({ route: 'balance', path: '/transactions/3/amount', kind: 'value', reason: 'rounding fixed in V2', author: 'qa', expires: '7d' }, NOW);
    expect(w).toMatchObject({ route: 'balance', path: '/transactions/*/amount', kind: 'value', author: 'qa', expiresAt: '2024-05-08T10:00:00.000Z' });
    expect(w.id).toMatch(/^w-[0-9a-f]{8}$/);
  });

  it('refuses bad input naming the field', () => {
    const ok = { route: 'balance', path: '/a', kind: 'value', reason: 'r', author: 'qa', expires: '1d' };
    expect(() => buildWaiver({ ...ok, route: '' }, NOW)).toThrow(/--route: is required/);
    expect(() => buildWaiver({ ...ok, path: 'a' }, NOW)).toThrow(/--path: "a" must be a JSON Pointer/);
    expect(() => buildWaiver({ ...ok, kind: 'wrong' }, NOW)).toThrow(/--kind: "wrong" must be one of value, type, missing/);
    expect(() => buildWaiver({ ...ok, reason: ' ' }, NOW)).toThrow(/--reason: is required/);
    expect(() => buildWaiver({ ...ok, expires: 'soon' }, NOW)).toThrow(/--expires: "soon" is neither/);
    expect(() => parseExpiry('2024-04-01T00:00:00Z', NOW)).toThrow(/is not in the future/);
  });
});

describe('waiver expiry', () => {
  it('applies until it expires, then the finding counts again', () => {
    let now = NOW.getTime();
    const w = buildWaiver({ route: 'balance', path: '/links', kind: 'extra', reason: 'new field', author: 'qa', expires: '1h' }, NOW);
    const book = new VerdictBook({ waivers: [w], clock: () => now });
    const redactor = new Redactor();
    const pair = () => makePair({ body: { a: 1 } }, { body: { a: 1, links: {} } });
    const first = book.add(finishVerdict(comparePair(pair(), {}), redactor));
    expect(first.result).toBe('waived');
    expect(first.findings[0].waived).toBe(w.id);
    now += 3_600_001;
    const second = book.add(finishVerdict(comparePair(pair(), {}), redactor));
    expect(second.result).toBe('mismatch');
    expect(second.findings[0].waived).toBeUndefined();
    const r = book.snapshot().routes[0];
    expect([r.waived, r.mismatch]).toEqual([1, 1]);
  });

  it('matches by route (or *), kind (or *) and templated path', () => {
    const mk = (route: string, path: string, kind: string) =>
      buildWaiver({ route, path, kind, reason: 'r', author: 'qa', expires: '1d' }, NOW);
    const idx = new WaiverIndex([mk('balance', '/tx/*/amount', 'value'), mk('*', '@status', '*')], () => NOW.getTime());
    expect(idx.waiverFor('balance', '/tx/*/amount', '/tx/4/amount', 'value')).toBeDefined();
    expect(idx.waiverFor('balance', '/tx/*/amount', '/tx/4/amount', 'type')).toBeUndefined();
    expect(idx.waiverFor('other', '/tx/*/amount', '/tx/4/amount', 'value')).toBeUndefined();
    expect(idx.waiverFor('other', '@status', '@status', 'value')).toBeDefined();
  });
});

describe('waivers in the state store', () => {
  let store: StateStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('adds and removes through compare-and-set, each change in the history as a waiver action', async () => {
    const dir = tempDir();
    store = openStateStore(`file://${join(dir, 'state.json')}`);
    const w = await addWaiver(store, { route: 'balance', path: '/links', kind: 'extra', reason: 'new field', author: 'qa@example', expires: '2d' });
    expect(await listWaivers(store)).toEqual([w]);
    const second = await addWaiver(store, { route: 'balance', path: '/x', kind: '*', reason: 'other', author: 'qa@example', expires: '2d' });
    expect((await listWaivers(store)).map((x) => x.id)).toEqual([w.id, second.id]);
    await removeWaiver(store, w.id, 'lead', 'not needed');
    expect((await listWaivers(store)).map((x) => x.id)).toEqual([second.id]);
    const history = await store.history();
    const waiverEntries = history.filter((h) => h.action === 'waiver');
    expect(waiverEntries).toHaveLength(3);
    expect(waiverEntries[0]).toMatchObject({ by: 'qa@example', reason: 'new field', data: { op: 'add', waiver: w } });
    expect(waiverEntries[2]).toMatchObject({ by: 'lead', data: { op: 'remove', id: w.id } });
    await expect(removeWaiver(store, 'w-nope', 'lead', undefined)).rejects.toThrow(/no waiver with id "w-nope"/);
  });

  it('does not lose a waiver when two writers race', async () => {
    const dir = tempDir();
    store = openStateStore(`file://${join(dir, 'state.json')}`);
    const other = openStateStore(`file://${join(dir, 'state.json')}`);
    try {
      await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          addWaiver(i % 2 ? other : store!, { route: 'balance', path: `/p${i}`, kind: 'value', reason: 'r', author: 'qa', expires: '1d' }),
        ),
      );
      expect((await listWaivers(store)).map((w) => w.path).sort()).toEqual(['/p0', '/p1', '/p2', '/p3']);
    } finally {
      await other.close();
    }
  });
});
