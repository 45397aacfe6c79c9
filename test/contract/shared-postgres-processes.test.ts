/**
 * Real `cairn serve` processes sharing one PostgreSQL database (each its own data directory): an upload left mid-parse
 * by a process killed with SIGKILL is failed by a live one, while uploads a live process is still parsing are not;
 * and an agent's git memory pushed through one process is pulled through another.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFile } from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDialects } from '../support/cairn.js';
import { removeCli } from '../support/cli.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';
import { GitUser } from '../support/git-user.js';
import { ServeProcesses, type ServeProcess } from '../support/serve-processes.js';

/** Several seconds: on a loaded machine a live process's heartbeat may land late, and must still count as live. */
const STALE_MS = 15_000;

/** A text file big enough that parsing and storing its chunks takes a loaded machine seconds. */
const bigText = (tag: string) =>
  Buffer.from(
    Array.from({ length: 120_000 }, (_, i) => `${tag} line ${i}: the quick brown fox jumps over the lazy dog.`).join(
      '\n',
    ),
  );

const inProgress = (status: string | null | undefined) => status === 'pending' || status === 'parsing';

describe.each(testDialects().filter((d) => d === 'postgres'))('Cairn processes sharing PostgreSQL [%s]', () => {
  let llm: FakeLlm;
  let drop: () => Promise<void>;
  let pgUri: string;
  const processes = new ServeProcesses('cairn-shared-pg-');
  const gitUsers: GitUser[] = [];

  const start = (): Promise<ServeProcess> =>
    processes.start(llm.env({ LETTA_PG_URI: pgUri, CAIRN_STALE_AFTER_MS: String(STALE_MS) }));

  beforeAll(async () => {
    llm = await startFakeLlm();
    const database = await createTestDatabase('postgres');
    drop = database.drop;
    pgUri = database.pgUri!;
  }, 60_000);
  afterAll(async () => {
    await processes.stopAll();
    await drop?.();
    await llm?.close();
    for (const u of gitUsers) u.close();
    await removeCli();
  });

  it('a file a killed process was parsing is failed by a live one; files a live process is parsing are not', async () => {
    // One after another: the first migrates the empty database.
    const doomed = await start();
    const parsing = await start();
    const watcher = await start();
    const folder = await watcher.client.folders.create({ name: 'shared-docs' });
    const statusOf = async (fileId: string) =>
      (await watcher.client.folders.files.retrieve(fileId, { folder_id: folder.id })).processing_status;

    const orphan = await doomed.client.folders.files.upload(folder.id, {
      file: await toFile(bigText('orphan'), 'orphan.txt'),
    });
    doomed.cli.child.kill('SIGKILL');
    await doomed.cli.exited;
    // Killed before it could finish: what the sweep is for.
    expect(inProgress(await statusOf(orphan.id))).toBe(true);

    // At once, so that they queue behind each other in the process's parser and stay in progress for a while.
    const liveUploads = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const file = await parsing.client.folders.files.upload(folder.id, {
          file: await toFile(bigText(`live-${i}`), `live-${i}.txt`),
        });
        return { id: file.id };
      }),
    );

    const deadline = Date.now() + 120_000;
    while (inProgress(await statusOf(orphan.id)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const failed = await watcher.client.folders.files.retrieve(orphan.id, { folder_id: folder.id });
    expect(failed.processing_status).toBe('error');
    expect(failed.error_message).toContain('upload it again');

    while ((await Promise.all(liveUploads.map(({ id }) => statusOf(id)))).some(inProgress) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    // A live process's uploads end parsed; the error text is in the comparison so that a failure says why.
    for (const { id } of liveUploads) {
      const file = await watcher.client.folders.files.retrieve(id, { folder_id: folder.id });
      expect({ status: file.processing_status, error: file.error_message }).toMatchObject({
        status: expect.stringMatching(/^(embedding|completed)$/),
        error: null,
      });
    }
  }, 240_000);

  it('git memory pushed through one process is pulled through another, and a stale push is refused', async () => {
    const a = processes.alive()[0] ?? (await start());
    const b = await start();
    const agent = await a.client.agents.create({
      name: 'memo-shared',
      memory_blocks: [{ label: 'human', value: 'Name: Ada', description: 'About the user' }],
    });
    const remote = (p: ServeProcess) => `${p.url}/v1/git/${agent.id}/state.git`;
    const alice = new GitUser();
    const bob = new GitUser();
    gitUsers.push(alice, bob);
    const viaA = await alice.clone(remote(a));
    const viaB = await bob.clone(remote(b));
    const human = (dir: string) => readFileSync(join(dir, 'system/human.md'), 'utf8');

    writeFileSync(join(viaA, 'system/human.md'), '---\ndescription: About the user\n---\nName: Ada\nLikes: tea');
    await alice.commitAll(viaA, 'Remember tea');
    await alice.git(viaA, 'push', '--quiet', 'origin', 'HEAD:main');
    const pushed = (await alice.git(viaA, 'rev-parse', 'HEAD')).stdout.trim();

    // Bob's clone through B is now behind: a push from it is refused, and changes nothing.
    writeFileSync(join(viaB, 'system/human.md'), '---\ndescription: About the user\n---\nName: Bob');
    await bob.commitAll(viaB, 'Overwrite');
    expect(await bob.fails(viaB, 'push', 'origin', 'HEAD:main')).toMatch(/rejected|fetch first|non-fast-forward/);
    expect((await b.client.agents.blocks.retrieve('human', { agent_id: agent.id })).value).toBe(
      'Name: Ada\nLikes: tea',
    );

    await bob.git(viaB, 'reset', '--quiet', '--hard', 'origin/main');
    await bob.git(viaB, 'pull', '--quiet', '--ff-only');
    expect((await bob.git(viaB, 'rev-parse', 'HEAD')).stdout.trim()).toBe(pushed);
    expect(human(viaB)).toBe('---\ndescription: About the user\n---\nName: Ada\nLikes: tea');

    // A block edit through B's API is a commit a pull through A sees.
    await b.client.agents.blocks.update('human', { agent_id: agent.id, value: 'Name: Ada Lovelace' });
    await alice.git(viaA, 'pull', '--quiet', '--ff-only');
    expect(human(viaA)).toBe('---\ndescription: About the user\n---\nName: Ada Lovelace');
    expect((await alice.git(viaA, 'log', '-1', '--format=%s')).stdout.trim()).toBe('Update memory blocks: human');
  }, 240_000);
  it('pushes on one process racing block writes on another lose no write', async () => {
    const alive = processes.alive();
    const a = alive[0] ?? (await start());
    const b = alive[1] ?? (await start());
    const agent = await a.client.agents.create({
      name: 'memo-race',
      memory_blocks: [{ label: 'human', value: 'start', description: 'About the user' }],
    });
    const human = (await b.client.agents.blocks.retrieve('human', { agent_id: agent.id })).id;
    const pusher = new GitUser();
    gitUsers.push(pusher);
    const repo = await pusher.clone(`${a.url}/v1/git/${agent.id}/state.git`);
    const file = (value: string) => `---\ndescription: About the user\n---\n${value}`;

    const pushed: string[] = [];
    const written: string[] = [];
    for (let round = 0; round < 15; round++) {
      await pusher.git(repo, 'fetch', '--quiet', 'origin');
      await pusher.git(repo, 'reset', '--quiet', '--hard', 'origin/main');
      const viaGit = `<pushed ${round}>`;
      const viaRest = `<written ${round}>`;
      writeFileSync(join(repo, 'system/human.md'), file(viaGit));
      await pusher.commitAll(repo, `Round ${round}`);
      const [push] = await Promise.allSettled([
        pusher.git(repo, 'push', '--quiet', 'origin', 'HEAD:main'),
        b.client.agents.blocks
          .update('human', { agent_id: agent.id, value: viaRest })
          .then(() => written.push(viaRest)),
      ]);
      // Refused when the write came first: then the pusher pulls and tries again next round.
      if (push.status === 'fulfilled') pushed.push(viaGit);
    }
    expect(written).toHaveLength(15);

    await pusher.git(repo, 'fetch', '--quiet', 'origin');
    await pusher.git(repo, 'reset', '--quiet', '--hard', 'origin/main');
    const block = await b.client.agents.blocks.retrieve('human', { agent_id: agent.id });
    expect(readFileSync(join(repo, 'system/human.md'), 'utf8')).toBe(file(block.value));
    // Every version of the file git ever held, and every value block history recorded.
    const gitVersions = (await pusher.git(repo, 'log', '-p', '--format=', '--', 'system/human.md')).stdout;
    const history = (await (await fetch(`${b.url}/v1/blocks/${human}/history?limit=1000`)).json()) as {
      value: string;
    }[];
    const recorded = new Set(history.map((entry) => entry.value));
    for (const value of [...written, ...pushed]) {
      expect({ value, inGit: gitVersions.includes(`+${value}`), inHistory: recorded.has(value) }).toEqual({
        value,
        inGit: true,
        inHistory: true,
      });
    }
  }, 240_000);
});
