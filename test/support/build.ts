import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { startCairn, type TestCairn } from './cairn.js';
import { startFakeLlm, type FakeLlm } from './fake-llm.js';

export interface Built {
  /** The `cairn` executable (dist/cli/main.js) of this build. */
  cli: string;
  /** The bundled Claude Code hooks (dist/hooks.js). */
  hooks: string;
  remove(): void;
}

/**
 * Builds the project with scripts/build.mjs into a private directory, so tests run the real compiled artefacts
 * without racing a concurrent `npm run build` over dist/. It lives under node_modules so that the compiled files
 * resolve their dependencies from the project's node_modules.
 */
export async function buildProject(): Promise<Built> {
  const root = resolve(import.meta.dirname, '../..');
  const outdir = join(root, 'node_modules/.cache/cairn-test-build', `${process.pid}-${randomBytes(4).toString('hex')}`);
  await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--outdir', outdir], { cwd: root });
  return {
    cli: join(outdir, 'cli/main.js'),
    hooks: join(outdir, 'hooks.js'),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** A live Cairn (SQLite, with a password) plus a private build of the CLI and hooks, for end-to-end client tests. */
export interface BuiltCairn {
  server: TestCairn;
  built: Built;
  /** The fake LLM the server's providers point at, when asked for. */
  llm: FakeLlm | undefined;
  close(): Promise<void>;
}

export async function startBuiltCairn(password: string, options: { llm?: boolean } = {}): Promise<BuiltCairn> {
  const llm = options.llm ? await startFakeLlm() : undefined;
  const [server, built] = await Promise.all([startCairn('sqlite', { password }, llm?.env() ?? {}), buildProject()]);
  return {
    server,
    built,
    llm,
    close: async () => {
      await server.close();
      await llm?.close();
      built.remove();
    },
  };
}

/**
 * Registers the suite's beforeAll/afterAll for a BuiltCairn and returns live accessors to it (valid inside tests
 * and hooks that run after the suite's setup).
 */
export function useBuiltCairn(
  password: string,
  options: { llm?: boolean; setup?: () => void; teardown?: () => void } = {},
): { readonly server: TestCairn; readonly built: Built; readonly llm: FakeLlm } {
  let target: BuiltCairn | undefined;
  beforeAll(async () => {
    target = await startBuiltCairn(password, options);
    options.setup?.();
  }, 120_000);
  afterAll(async () => {
    options.teardown?.();
    await target?.close();
  });
  const live = () => {
    if (!target) throw new Error('BuiltCairn used before its beforeAll ran');
    return target;
  };
  return {
    get server() {
      return live().server;
    },
    get built() {
      return live().built;
    },
    get llm() {
      const llm = live().llm;
      if (!llm) throw new Error('started without { llm: true }');
      return llm;
    },
  };
}
