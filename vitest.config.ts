import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // each test file starts real servers and worker pools; two at a time suits a 2-core machine
    maxWorkers: 2,
    pool: 'forks',
  },
})
