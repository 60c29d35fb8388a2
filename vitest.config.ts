import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real processes on loopback; two cores do not take many at once.
    maxWorkers: 2,
    fileParallelism: true,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'reports/test-results.json' }]] : ['default'],
  },
});
