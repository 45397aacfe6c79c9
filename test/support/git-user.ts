import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Real git, as Letta Code runs it: no user configuration, the key as a Basic header. */
export class GitUser {
  readonly home = mkdtempSync(join(tmpdir(), 'cairn-git-user-'));

  constructor(private readonly password?: string) {}

  async git(cwd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const auth = this.password
      ? ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`letta:${this.password}`).toString('base64')}`]
      : [];
    return run('git', [...auth, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: this.home,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: 'Memo',
        GIT_AUTHOR_EMAIL: 'memo@example.com',
        GIT_COMMITTER_NAME: 'Memo',
        GIT_COMMITTER_EMAIL: 'memo@example.com',
      },
    });
  }

  /** The stderr of a git command that must fail. */
  async fails(cwd: string, ...args: string[]): Promise<string> {
    try {
      await this.git(cwd, ...args);
    } catch (error) {
      return String((error as { stderr?: string }).stderr);
    }
    throw new Error(`git ${args.join(' ')} succeeded`);
  }

  async clone(url: string, name = 'memory'): Promise<string> {
    const dir = join(this.home, name);
    await this.git(this.home, 'clone', '--quiet', url, dir);
    return dir;
  }

  async commitAll(dir: string, message: string): Promise<void> {
    await this.git(dir, 'add', '-A');
    await this.git(dir, 'commit', '--quiet', '-m', message);
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
