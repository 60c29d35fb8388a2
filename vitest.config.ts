import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Bounds, not targets: a test waits on events, and on a machine running another suite beside
    // this one (the brief's standard) spawning a CLI can take seconds. Speed is `npm run bench`'s job.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests start real processes on loopback; two cores do not take many at once.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'reports/test-results.json' }]] : ['default'],
  },
});
