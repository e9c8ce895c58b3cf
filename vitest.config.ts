import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/{core,commands,e2e}/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 30_000,
  },
});
