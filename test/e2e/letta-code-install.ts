/**
 * Where `scripts/install-letta-code.sh` put Letta Code (Node 24 + the CLI under .cache/, or CAIRN_CACHE_DIR), shared
 * by the Letta Code end-to-end suites. A suite runs when the install is there, and under CI=true also when it is not,
 * so that a missing install fails instead of skipping: CI must never report green for a harness it did not run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Exchange } from './recording-proxy.js';

export type Install = Record<string, string>;

const CACHE = resolve(process.env.CAIRN_CACHE_DIR ?? '.cache');
export const ENV_FILE = join(CACHE, 'letta-code.env');

function readInstall(file: string): Install | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('='));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export const install = readInstall(ENV_FILE);
/** The pinned install, and the newest assembled one when LETTA_CODE_ASSEMBLE_NEWEST=1 built it. */
export const installs = [install, readInstall(join(CACHE, 'letta-code-newest.env'))].filter(
  (i): i is Install => i !== undefined,
);
export const enabled = install !== undefined || process.env.CI === 'true';

export const versionAtLeast = (version: string, minimum: string) => {
  const [a, b] = [version, minimum].map((v) => v.split('.').map((n) => Number.parseInt(n, 10)));
  for (let i = 0; i < 3; i++) if (a![i] !== b![i]) return (a![i] ?? 0) > (b![i] ?? 0);
  return true;
};

export const describeInstall = (i: Install) =>
  `Letta Code ${i.LETTA_CODE_VERSION}${i.LETTA_CODE_DROPPED ? ` (assembled without ${i.LETTA_CODE_DROPPED})` : ''}`;

/** A clean environment for the CLI: nothing from the developer's or CI's shell (LETTA_API_KEY, proxies, …) leaks in. */
export function cliEnvironment(baseURL: string, home: string, extraEnv: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH,
    HOME: home,
    LETTA_BASE_URL: baseURL,
    DISABLE_AUTOUPDATER: '1',
    LETTA_CODE_TELEM: '0',
    DO_NOT_TRACK: '1',
    NO_COLOR: '1',
    ...extraEnv,
  };
}

/**
 * Failed requests, except the 404s Letta Code expects from a self-hosted server and ignores: 0.32.x's agent secrets
 * and repositories (reference §15.3: Cloud features), and the TUI's Cloud billing balance, whose failure both
 * versions swallow (`getBillingTier` catches it and shows no tier).
 */
const TOLERATED_404 = /^GET \/v1\/(agents\/agent-[^/?]+\/(secrets|repositories)|metadata\/balance)(\?|$)/;
export const failures = (exchanges: Exchange[]) =>
  exchanges
    .filter(
      (e) => (e.status >= 400 || e.status === 0) && !(e.status === 404 && TOLERATED_404.test(`${e.method} ${e.url}`)),
    )
    .map((e) => `${e.method} ${e.url} → ${e.status} ${e.responseBody.slice(0, 200)}`);
