import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the only cap on a test: tests wait on conditions (test/helpers.ts WAIT_MS), and a busy machine is slow
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // each test file starts real servers and worker pools; two at a time suits a 2-core machine
    maxWorkers: 2,
    pool: 'forks',
  },
})
