import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/** What a worker thread needs to `import()` one of Cairn's own modules. */
export interface WorkerModule {
  url: string;
  /**
   * Module hooks to `register` in the worker before the import, when Cairn runs from its TypeScript sources (under
   * the test runner): a worker thread is plain Node, which neither finds `./x.ts` behind `./x.js` nor reads types.
   * Null when running from dist/.
   */
  hooks: string | null;
}

/**
 * The typescript-only hooks: sucrase (a runtime dependency already, for tool sources) strips the types; nothing
 * else changes, so the worker runs the same code the server does.
 */
const typescriptHooks = (sucrase: string) => `
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
const { transform } = (await import(${JSON.stringify(sucrase)})).default;
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (!specifier.endsWith('.js') || !context.parentURL?.endsWith('.ts')) throw error;
    return next(specifier.slice(0, -3) + '.ts', context);
  }
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const filePath = fileURLToPath(url);
  const source = await readFile(filePath, 'utf8');
  return { format: 'module', shortCircuit: true, source: transform(source, { transforms: ['typescript'], filePath }).code };
}`;

/** `path`: the module's `.js` path relative to `base` (the caller's `import.meta.url`), as in an import. */
export function workerModule(path: string, base: string): WorkerModule {
  if (!base.endsWith('.ts')) return { url: new URL(path, base).href, hooks: null };
  const sucrase = pathToFileURL(require.resolve('sucrase')).href;
  return { url: new URL(path.replace(/\.js$/, '.ts'), base).href, hooks: typescriptHooks(sucrase) };
}

/** Worker-side source: `import()`s a module described by a `WorkerModule`, registering its hooks first. */
export const IMPORT_WORKER_MODULE = `(module) => {
  if (module.hooks) require('node:module').register('data:text/javascript,' + encodeURIComponent(module.hooks));
  return import(module.url);
}`;
