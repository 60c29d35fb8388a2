/** Starts the garbage stand-in for V2 as a child process (see garbage-server.ts). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track, type Spawned } from '../test/helpers/processes.js';

export type GarbageMode = 'truncated-json' | 'wrong-content-type' | 'huge-body';
export const GARBAGE_MODES: readonly GarbageMode[] = ['truncated-json', 'wrong-content-type', 'huge-body'];

export function spawnGarbageServer(port: number, mode: GarbageMode): Spawned {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'soak', 'garbage-server.ts'), String(port), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}
