import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'charts/test/**/*.test.ts',
      'deploy/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
    ],
    // Builds the web console if its source changed since its build (tests drive it in Chromium).
    globalSetup: ['packages/console/test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native runs and real servers: keep files in separate forks, at most two at once (2 cores).
    pool: 'forks',
    maxWorkers: 2,
  },
});
