import { rmSync } from 'node:fs';
import { Letta } from '@letta-ai/letta-client';
import { freePort, spawnCli, tempDir, waitForHealth, type CliProcess } from './cli.js';

export interface ServeProcess {
  cli: CliProcess;
  url: string;
  client: Letta;
}

/** Real `cairn serve` processes, each on its own port and data directory, for tests of several processes. */
export class ServeProcesses {
  readonly started: ServeProcess[] = [];
  private readonly dirs: string[] = [];

  constructor(private readonly dirPrefix: string) {}

  async start(env: Record<string, string>): Promise<ServeProcess> {
    const port = await freePort();
    const dir = tempDir(this.dirPrefix);
    this.dirs.push(dir);
    const cli = await spawnCli(['serve', '--port', String(port), '--data-dir', dir], env);
    await waitForHealth(port, cli, 60_000);
    const url = `http://127.0.0.1:${port}`;
    const serving = { cli, url, client: new Letta({ baseURL: url, maxRetries: 0 }) };
    this.started.push(serving);
    return serving;
  }

  /** The processes not killed or exited yet, in start order. */
  alive(): ServeProcess[] {
    return this.started.filter(({ cli }) => cli.child.exitCode === null && cli.child.signalCode === null);
  }

  async stopAll(): Promise<void> {
    for (const { cli } of this.alive()) cli.child.kill('SIGKILL');
    await Promise.all(this.started.map(({ cli }) => cli.exited));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
