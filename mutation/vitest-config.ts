import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { groupNamed } from './groups.js';

/** The vitest config Stryker runs for one group: only that group's pure test files. */
export function mutationVitestConfig(groupName: string) {
  return defineConfig({
    root: fileURLToPath(new URL('..', import.meta.url)),
    test: {
      include: [...groupNamed(groupName).tests],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  });
}
