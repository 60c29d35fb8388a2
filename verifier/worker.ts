/**
 * The piscina worker: the task context comes once, as workerData; each task is a batch of
 * pairs packed flat (batch-codec.ts), and the verdicts go back packed the same way. After large
 * bodies the worker's heap is collected (reclaim.ts), so the proxy's memory stays bounded.
 */
import { workerData } from 'node:worker_threads';
import { packVerdicts, unpackPairs, type PackedBatch } from './batch-codec.js';
import { fullCollection, Reclaimer, RECLAIM_EVERY_BYTES } from './reclaim.js';
import { pairBodyBytes, prepareContext, verifyOne, type TaskContext } from './task.js';
import type { MirroredPair } from '../shared/pairs.js';
import type { Verdict } from './types.js';

const ctx = prepareContext(workerData as TaskContext);
const reclaimer = new Reclaimer(RECLAIM_EVERY_BYTES, fullCollection());

export default function verifyPairs(batch: PackedBatch): unknown[] {
  const pairs: Array<MirroredPair | undefined> = unpackPairs(batch);
  // The packed copy and each diffed pair are let go at once, so a collection can take their bodies.
  batch.length = 0;
  const verdicts = new Array<Verdict>(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    pairs[i] = undefined;
    verdicts[i] = verifyOne(pair, ctx);
    reclaimer.diffed(pairBodyBytes(pair));
  }
  return packVerdicts(verdicts);
}
