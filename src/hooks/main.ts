/**
 * The Claude Code hooks as one bundled file (dist/hooks.js): `node hooks.js <event>`. Bundling everything (SDK
 * included) into one module keeps start-up short, which the per-prompt hook pays on every prompt.
 */
import { hookMain } from './run.js';

hookMain(process.argv[2] ?? '', process.argv.slice(3)).catch(() => {
  process.exitCode = 0;
});
