/**
 * The piscina worker: the task context comes once, as workerData; each task is a batch of
 * pairs packed flat (batch-codec.ts), and the verdicts go back packed the same way.
 */
import { workerData } from 'node:worker_threads';
import { packVerdicts, unpackPairs, type PackedBatch } from './batch-codec.js';
import { prepareContext, verifyBatch, type TaskContext } from './task.js';
import type { Verdict } from './types.js';

const ctx = prepareContext(workerData as TaskContext);

export default function verifyPairs(batch: PackedBatch): unknown[] {
  const verdicts: Verdict[] = verifyBatch(unpackPairs(batch), ctx);
  return packVerdicts(verdicts);
}
