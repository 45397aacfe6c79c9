import { readFileSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { GitUser } from '../support/git-user.js';

const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');

describe.each(testDialects())('git-backed memory over smart HTTP [%s]', (dialect) => {
  let server: TestCairn;
  const users: GitUser[] = [];
  const user = () => {
    const u = new GitUser();
    users.push(u);
    return u;
  };
  const remote = (agentId: string) => `${server.baseURL}/v1/git/${agentId}/state.git`;
  const newAgent = async () =>
    server.client.agents.create({
      name: `memo-${Math.random().toString(36).slice(2, 8)}`,
      memory_blocks: [
        { label: 'human', value: 'Name: Ada', description: 'About the user' },
        { label: 'persona', value: 'I am Memo.', limit: 300 },
        { label: 'policy', value: 'Never delete tests.', read_only: true, description: 'House rules' },
      ],
    });
  const blocksOf = async (agentId: string) =>
    Object.fromEntries((await server.client.agents.blocks.list(agentId)).items.map((b) => [b.label, b]));

  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(async () => {
    await server?.close();
    for (const u of users) u.close();
  });

  it('clones the blocks as system/<label>.md with front matter', async () => {
    const agent = await newAgent();
    const dir = await user().clone(remote(agent.id));
    expect(read(dir, 'system/human.md')).toBe('---\ndescription: About the user\n---\nName: Ada');
    expect(read(dir, 'system/persona.md')).toMatch(
      /^---\ndescription: The persona block: .*\nlimit: 300\n---\nI am Memo\.$/,
    );
    expect(read(dir, 'system/policy.md')).toBe(
      '---\ndescription: House rules\nread_only: true\n---\nNever delete tests.',
    );
  });

  it('applies a push to the blocks, and the next pull sees an API edit as a commit', async () => {
    const agent = await newAgent();
    const u = user();
    const dir = await u.clone(remote(agent.id));
    writeFileSync(join(dir, 'system/human.md'), '---\ndescription: About the user\n---\nName: Ada\nLikes: tea');
    mkdirSync(join(dir, 'system/project'), { recursive: true });
    writeFileSync(join(dir, 'system/project/stack.md'), '---\ndescription: The stack\n---\nTypeScript');
    writeFileSync(join(dir, 'notes.md'), 'kept in git only');
    await u.commitAll(dir, 'Remember tea');
    await u.git(dir, 'push', '--quiet', 'origin', 'HEAD:main');

    const blocks = await blocksOf(agent.id);
    expect(blocks.human!.value).toBe('Name: Ada\nLikes: tea');
    expect(blocks['project/stack']).toMatchObject({ value: 'TypeScript', description: 'The stack' });
    const history = await server.client.blocks.retrieve(blocks.human!.id!);
    expect(history.value).toBe('Name: Ada\nLikes: tea');

    await server.client.blocks.update(blocks.human!.id!, { value: 'Name: Ada Lovelace' });
    await u.git(dir, 'pull', '--quiet', '--ff-only');
    expect(read(dir, 'system/human.md')).toBe('---\ndescription: About the user\n---\nName: Ada Lovelace');
    expect(read(dir, 'notes.md')).toBe('kept in git only');
    const log = (await u.git(dir, 'log', '-1', '--format=%an %s')).stdout.trim();
    expect(log).toBe('Cairn Update memory blocks: human');

    // A file removed from system/ detaches its block.
    unlinkSync(join(dir, 'system/project/stack.md'));
    await u.commitAll(dir, 'Forget the stack');
    await u.git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    expect(Object.keys(await blocksOf(agent.id)).sort()).toEqual(['human', 'persona', 'policy']);
    // The server's history is the client's: nothing new to pull.
    expect((await u.git(dir, 'pull', '--ff-only')).stdout).toMatch(/Already up to date/);
  });

  it('refuses a push that edits a read-only block or breaks a limit, with the reason in git stderr, changing nothing', async () => {
    const agent = await newAgent();
    const u = user();
    const dir = await u.clone(remote(agent.id));
    writeFileSync(
      join(dir, 'system/policy.md'),
      '---\ndescription: House rules\nread_only: true\n---\nDelete at will.',
    );
    writeFileSync(join(dir, 'system/human.md'), '---\ndescription: About the user\n---\nName: Grace');
    await u.commitAll(dir, 'Loosen the rules');
    const readOnly = await u.fails(dir, 'push', 'origin', 'HEAD:main');
    expect(readOnly).toContain('[remote rejected]');
    expect(readOnly).toContain("system/policy.md: block 'policy' is read-only and cannot be modified");

    await u.git(dir, 'reset', '--quiet', '--hard', 'origin/main');
    writeFileSync(join(dir, 'system/persona.md'), `---\ndescription: Me\nlimit: 300\n---\n${'x'.repeat(301)}`);
    writeFileSync(join(dir, 'system/human.md'), '---\ndescription: About the user\n---\nName: Grace');
    await u.commitAll(dir, 'Too long');
    const limit = await u.fails(dir, 'push', 'origin', 'HEAD:main');
    expect(limit).toContain('system/persona.md: Value length (301 characters) exceeds block limit (300 characters)');

    const blocks = await blocksOf(agent.id);
    expect(blocks.human!.value).toBe('Name: Ada');
    expect(blocks.policy!.value).toBe('Never delete tests.');
    expect(blocks.persona!.value).toBe('I am Memo.');
    // The refused commits never became the server's history.
    const fresh = await user().clone(remote(agent.id), 'again');
    expect(read(fresh, 'system/human.md')).toContain('Name: Ada');
  });

  it('lets one of two racing pushes win and rejects the other, keeping the blocks consistent', async () => {
    const agent = await newAgent();
    const [a, b] = [user(), user()];
    const [dirA, dirB] = [await a.clone(remote(agent.id)), await b.clone(remote(agent.id))];
    writeFileSync(join(dirA, 'system/human.md'), '---\ndescription: About the user\n---\nfrom A');
    writeFileSync(join(dirB, 'system/human.md'), '---\ndescription: About the user\n---\nfrom B');
    await a.commitAll(dirA, 'A');
    await b.commitAll(dirB, 'B');
    const results = await Promise.allSettled([
      a.git(dirA, 'push', 'origin', 'HEAD:main'),
      b.git(dirB, 'push', 'origin', 'HEAD:main'),
    ]);
    const won = results.map((r) => r.status === 'fulfilled');
    expect(won.filter(Boolean)).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String((loser.reason as { stderr: string }).stderr)).toMatch(/fetch first|rejected/);
    expect((await blocksOf(agent.id)).human!.value).toBe(won[0] ? 'from A' : 'from B');

    // A forced push of the loser's diverged history is refused as well.
    const [loserGit, loserDir] = won[0] ? [b, dirB] : [a, dirA];
    const forced = await loserGit.fails(loserDir, 'push', '--force', 'origin', 'HEAD:main');
    expect(forced).toContain('non-fast-forward');
    expect((await blocksOf(agent.id)).human!.value).toBe(won[0] ? 'from A' : 'from B');
  });

  it('answers garbage with a 4xx or a refused report, never a 500, and changes nothing', async () => {
    const agent = await newAgent();
    const post = (body: Buffer, headers: Record<string, string> = {}) =>
      fetch(`${remote(agent.id)}/git-receive-pack`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-git-receive-pack-request', ...headers },
        body,
      });
    expect((await post(Buffer.from('not pkt-lines at all'))).status).toBe(400);
    expect((await post(Buffer.from('0000'))).status).toBe(200);
    expect((await post(Buffer.from('garbage'), { 'content-encoding': 'gzip' })).status).toBe(400);

    const refs = await fetch(`${remote(agent.id)}/info/refs?service=git-receive-pack`);
    const head = (await refs.text()).match(/([0-9a-f]{40}) refs\/heads\/main/)![1]!;
    const command = `${head} ${'1'.repeat(40)} refs/heads/main\0report-status\n`;
    const pkt = `${(command.length + 4).toString(16).padStart(4, '0')}${command}0000`;
    const garbage = await post(Buffer.concat([Buffer.from(pkt), Buffer.from('PACK\0\0\0\x02garbage garbage')]));
    expect(garbage.status).toBe(200);
    const report = await garbage.text();
    expect(report).toMatch(/unpack (?!ok)/);
    expect(report).toContain('ng refs/heads/main unpacker error');
    expect((await blocksOf(agent.id)).human!.value).toBe('Name: Ada');

    expect((await fetch(`${remote(agent.id)}/info/refs`)).status).toBe(400);
    expect(
      (await fetch(`${remote('agent-00000000-0000-4000-8000-000000000000')}/info/refs?service=git-upload-pack`)).status,
    ).toBe(404);
    expect((await fetch(`${server.baseURL}/v1/git/nope/state.git/info/refs?service=git-upload-pack`)).status).toBe(422);
  });

  it('serves the legacy remote without /state.git', async () => {
    const agent = await newAgent();
    const dir = await user().clone(`${server.baseURL}/v1/git/${agent.id}`);
    expect(read(dir, 'system/human.md')).toContain('Name: Ada');
  });
});

describe('git-backed memory behind a password', () => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn('sqlite', { password: 'sesame' });
  });
  afterAll(async () => server?.close());

  it('takes the key as the Basic password, as Letta Code sends it, and refuses without it', async () => {
    const agent = await server.client.agents.create({ memory_blocks: [{ label: 'human', value: 'hi' }] });
    const url = `${server.baseURL}/v1/git/${agent.id}/state.git`;
    const anonymous = new GitUser();
    const keyed = new GitUser('sesame');
    try {
      expect(await anonymous.fails(anonymous.home, 'clone', url, 'x')).toMatch(
        /Authentication failed|could not read Username/,
      );
      const dir = await keyed.clone(url);
      expect(read(dir, 'system/human.md')).toContain('hi');
      const challenge = await fetch(`${url}/info/refs?service=git-upload-pack`);
      expect(challenge.status).toBe(401);
      expect(challenge.headers.get('www-authenticate')).toBe('Basic realm="Cairn"');
    } finally {
      anonymous.close();
      keyed.close();
    }
  });
});
