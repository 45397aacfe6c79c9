import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { objectHeader } from '../lib/git-objects.js';
import type { GitMemoryStore } from '../store/git-memory.store.js';

const deflateAsync = promisify(deflate);

export const MEMORY_BRANCH = 'refs/heads/main';

/** Objects read per query while a process's copy of a repository catches up with the database. */
const CATCH_UP_PAGE = 500;

/** Git run for the server's own repositories reads no user's or system's configuration. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra,
  };
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git to completion in a child process, so the event loop only moves bytes. */
export function runGit(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: Buffer },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env), stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    // A child that exits before reading all its input closes the pipe; its exit code tells what happened.
    child.stdin.on('error', () => {});
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(options.input ?? Buffer.alloc(0));
  });
}

/** Starts git with piped standard streams, for the caller to stream a request in and the answer out. */
export function spawnGit(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): ChildProcessByStdio<Writable, Readable, Readable> {
  return spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * This process's on-disk copies of agents' memory repositories: bare repositories under a private temporary
 * directory, written from the database's objects and head, never the other way round. A copy is only ever behind
 * the database, never different from it, so processes sharing a database cannot diverge.
 */
export class GitRepositoryCache {
  private root: Promise<string> | undefined;
  /** Per agent: the highest object `seq` already written to disk. */
  private readonly written = new Map<string, number>();

  constructor(private readonly parentDir: string = tmpdir()) {}

  private async rootDir(): Promise<string> {
    this.root ??= mkdtemp(join(this.parentDir, 'cairn-git-'));
    return this.root;
  }

  /** The copy of `agentId`'s repository, brought up to the database's objects and `head`. Callers serialise per agent. */
  async refresh(agentId: string, store: GitMemoryStore, head: string | undefined): Promise<string> {
    const dir = join(await this.rootDir(), `${agentId}.git`);
    let seq = this.written.get(agentId);
    if (seq === undefined) {
      await rm(dir, { recursive: true, force: true });
      const init = await runGit(['init', '--bare', '--quiet', '--initial-branch=main', dir], {
        cwd: await this.rootDir(),
      });
      if (init.code !== 0) throw new Error(`git init failed: ${init.stderr.trim()}`);
      seq = 0;
    }
    for (;;) {
      const page = await store.objectsSince(agentId, seq, CATCH_UP_PAGE);
      for (const object of page) {
        await this.writeLoose(dir, object.sha, object.kind, object.data);
        seq = Number(object.seq);
      }
      this.written.set(agentId, seq);
      if (page.length < CATCH_UP_PAGE) break;
    }
    const ref = join(dir, MEMORY_BRANCH);
    if (head) await atomicWrite(ref, `${head}\n`);
    else await rm(ref, { force: true });
    return dir;
  }

  private async writeLoose(dir: string, sha: string, kind: string, data: Buffer): Promise<void> {
    const folder = join(dir, 'objects', sha.slice(0, 2));
    await mkdir(folder, { recursive: true });
    await atomicWrite(join(folder, sha.slice(2)), await deflateAsync(Buffer.concat([objectHeader(kind, data), data])));
  }

  /** A fresh object directory for a push's pack, so that a refused push leaves nothing in the copy. */
  async quarantine(repoDir: string): Promise<string> {
    const dir = await mkdtemp(join(repoDir, 'quarantine-'));
    await mkdir(join(dir, 'pack'));
    return dir;
  }

  async close(): Promise<void> {
    if (this.root) await rm(await this.root, { recursive: true, force: true });
  }
}

/** Readers (a running upload-pack) see the old file or the new one, never half of one. */
async function atomicWrite(path: string, content: string | Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, content);
  await rename(temp, path);
}
