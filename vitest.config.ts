import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'charts/test/**/*.test.ts',
      'deploy/test/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native runs and real servers: keep files in separate forks, at most two at once (2 cores).
    pool: 'forks',
    maxWorkers: 2,
  },
});
