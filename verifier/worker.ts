/** The piscina worker: the task context comes once, as workerData; each task is a batch of pairs. */
import { workerData } from 'node:worker_threads';
import type { MirroredPair } from '../shared/pairs.js';
import { prepareContext, verifyBatch, type TaskContext } from './task.js';
import type { Verdict } from './types.js';

const ctx = prepareContext(workerData as TaskContext);

export default function verifyPairs(pairs: MirroredPair[]): Verdict[] {
  return verifyBatch(pairs, ctx);
}
