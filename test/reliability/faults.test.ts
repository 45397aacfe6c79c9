import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Short versions of the fault campaigns in bench/reliability/ (each a real Cairn process): a few kill -9s during
 * turns, the LLM provider's worst faults, and (as root with PostgreSQL 15 installed) a PostgreSQL restart under load.
 * Each campaign exits non-zero on a violation and prints what it found; the full runs and their figures are in
 * docs/benchmarks.md.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

function campaign(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${root}bench/reliability/run.mjs`, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const canRunOwnPostgres =
  process.getuid?.() === 0 && existsSync('/usr/lib/postgresql/15/bin/pg_ctl') && !!process.env.CAIRN_TEST_PG_URI;

/**
 * Why the full-disk campaign cannot mount its tmpfs here. A container may run as root without the right to mount,
 * so the probe decides, under CI too; the reason is printed beside the run.
 */
function tmpfsRefusal(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const probe = mkdtempSync(join(tmpdir(), 'cairn-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe]);
    return undefined;
  } catch (error) {
    return `mounting a tmpfs is not permitted: ${String(error)}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const fullDiskRefusal = tmpfsRefusal();
if (fullDiskRefusal) console.warn(`full-disk campaign skipped: ${fullDiskRefusal}`);

describe('fault campaigns (short)', () => {
  it('kill -9 during turns loses nothing acknowledged and leaves no run or orphan tool call behind', async () => {
    const result = await campaign('kill9', '--turns', '6', '--kill-rate', '0.5', '--seed', '3');
    expect(result.output).toContain('"violations": []');
    expect(result.code).toBe(0);
  }, 240_000);

  it('a hanging, cut-off or garbage-sending LLM ends every turn with an error stop reason in time', async () => {
    const result = await campaign('llm-faults', '--only', 'hang-before-headers,drop-mid-stream,garbage-json');
    expect(result.output).toContain('"violations": []');
    expect(result.code).toBe(0);
  }, 240_000);

  it.runIf(canRunOwnPostgres)(
    'PostgreSQL restarted under load: 503 while down, served again after',
    async () => {
      const result = await campaign('pg-restart', '--rounds', '1', '--down-s', '2');
      expect(result.output).toContain('"violations": []');
      expect(result.code).toBe(0);
    },
    240_000,
  );

  it.skipIf(!!fullDiskRefusal)(
    'SQLite on a full disk: 507s, nothing lost, writes succeed again once space returns',
    async () => {
      const result = await campaign('full-disk', '--size-mb', '16', '--ballast-mb', '3');
      expect(result.output).toContain('"violations": []');
      expect(result.output).toMatch(/"(agent|block|passage|turn) 507": \d+/);
      expect(result.code).toBe(0);
    },
    240_000,
  );
});
