/**
 * A verifier worker gives its heap back after large bodies (verifier/reclaim.ts): the count of
 * body bytes between full collections, and the collection itself, in a real worker thread.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Reclaimer, RECLAIM_EVERY_BYTES } from '../../verifier/reclaim.js';

describe('the reclaimer', () => {
  it('collects once every `everyBytes` of bodies, counting from the last collection', () => {
    let runs = 0;
    const r = new Reclaimer(10, () => runs++);
    r.diffed(4);
    r.diffed(5);
    expect(runs).toBe(0);
    r.diffed(1); // 10: at the threshold
    expect(runs).toBe(1);
    r.diffed(9);
    expect(runs).toBe(1);
    r.diffed(25); // one collection however far past it
    expect(runs).toBe(2);
    expect(r.collections).toBe(2);
  });

  it('does nothing when the runtime gave no collection', () => {
    const r = new Reclaimer(1, undefined);
    r.diffed(100);
    expect(r.collections).toBe(0);
  });

  it('collects after two 2 MB pairs by default, never after a small one', () => {
    let runs = 0;
    const r = new Reclaimer(RECLAIM_EVERY_BYTES, () => runs++);
    for (let i = 0; i < 1000; i++) r.diffed(2_000);
    expect(runs).toBe(0);
    const r2 = new Reclaimer(RECLAIM_EVERY_BYTES, () => runs++);
    r2.diffed(4 * 1_048_576);
    r2.diffed(4 * 1_048_576);
    expect(runs).toBe(1);
  });

  it('in a worker thread, fullCollection gives back a parse tree of unreachable objects at once', async () => {
    const reclaim = new URL('../../verifier/reclaim.ts', import.meta.url).href;
    const tsx = import.meta.resolve('tsx/esm/api');
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { getHeapStatistics } = require('node:v8');
      import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(reclaim)}, ${JSON.stringify(import.meta.url)})).then(({ fullCollection }) => {
        const gc = fullCollection();
        if (typeof gc !== 'function') return parentPort.postMessage({ gc: typeof gc });
        gc();
        const before = getHeapStatistics().used_heap_size;
        // a parse tree's worth of small objects, as diffing a large body leaves behind
        let keep = [];
        for (let i = 0; i < 1500000; i++) keep.push({ id: i, amount: String(i) });
        const held = getHeapStatistics().used_heap_size;
        keep = null;
        gc();
        parentPort.postMessage({ gc: 'function', before, held, after: getHeapStatistics().used_heap_size });
      });`;
    const w = new Worker(code, { eval: true });
    const msg = await new Promise<{ gc: string; before: number; held: number; after: number }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(msg.gc).toBe('function');
    // tens of MB held, then let go: one collection gives (nearly) all of it back
    expect(msg.held - msg.before).toBeGreaterThan(40 * 1_048_576);
    expect(msg.after - msg.before).toBeLessThan((msg.held - msg.before) / 10);
  });
});
