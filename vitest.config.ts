import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Runs alone, after the rest: vitest.browser.config.ts.
    exclude: [...configDefaults.exclude, 'test/e2e/inspector.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only add contention, and PostgreSQL runs on the same machine.
    maxWorkers: 2,
  },
});
