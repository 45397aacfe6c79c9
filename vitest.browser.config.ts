import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The memory inspector's browser suite, run on its own after the rest (`npm test`): Chromium takes most of a
 * two-core machine, which would slow the timed hook and CLI tests beside it, and their load would distort the live
 * update latency it measures.
 */
export default defineConfig({
  test: { ...base.test, include: ['test/e2e/inspector.test.ts'], exclude: configDefaults.exclude },
});
