/**
 * The piscina worker: the task context comes once, as workerData; each task is a batch of
 * pairs (structured clone: their big bodies are strings, copied in one piece). Verdicts go back
 * as one JSON text: the main thread (the proxy's) parses that faster than it deserialises the
 * same small objects field by field.
 */
import { workerData } from 'node:worker_threads';
import type { MirroredPair } from '../shared/pairs.js';
import { prepareContext, verifyBatch, type TaskContext } from './task.js';
import type { Verdict } from './types.js';

const ctx = prepareContext(workerData as TaskContext);

export default function verifyPairs(pairs: MirroredPair[]): string {
  const verdicts: Verdict[] = verifyBatch(pairs, ctx);
  return JSON.stringify(verdicts);
}
