import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Letta from '@letta-ai/letta-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import { tenantDatabaseName } from '../../src/store/tenant-database.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { buildCli } from '../support/cli.js';
import { databaseExists, dropTenantDatabases } from '../support/tenants.js';
import { http } from '../support/http.js';

const run = promisify(execFile);
const PASSWORD = 'tenancy-admin-password';

/** `cairn keys …` as a real process on the server's own database (its data dir, or its PostgreSQL database). */
async function keysCli(server: TestCairn, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_HOME: server.config.dataDir, LOG_LEVEL: 'warn' };
  delete env.LETTA_PG_URI;
  if (server.config.pgUri) env.LETTA_PG_URI = server.config.pgUri;
  const { stdout } = await run(process.execPath, [await buildCli(), 'keys', ...args], { env });
  return stdout;
}

async function createKey(server: TestCairn, ...args: string[]): Promise<{ key: string; id: string; prefix: string }> {
  return JSON.parse(await keysCli(server, 'create', '--json', ...args)) as { key: string; id: string; prefix: string };
}

const sdk = (server: TestCairn, apiKey: string | null, headers: Record<string, string> = {}) =>
  new Letta({ baseURL: server.baseURL, apiKey, maxRetries: 0, defaultHeaders: headers });

const status = async (promise: Promise<unknown>): Promise<number> =>
  promise.then(
    () => 200,
    (error: { status?: number }) => error.status ?? -1,
  );

describe.each(testDialects())('organisations, users and API keys [%s]', (dialect) => {
  let server: TestCairn;
  let alice: { key: string; id: string; prefix: string };
  let acmeOrgId: string;

  beforeAll(async () => {
    server = await startCairn(dialect, { password: PASSWORD });
    alice = await createKey(server, '--user', 'alice', '--org', 'acme');
  }, 120_000);
  afterAll(async () => {
    const pgUri = server?.config.pgUri;
    await server?.close();
    if (pgUri) await dropTenantDatabases(pgUri);
  });

  it('serves a key its own organisation, which starts empty, and the password the default one', async () => {
    const admin = server.client;
    const mine = await admin.agents.create({ name: 'default-org-agent' });
    const aliceClient = sdk(server, alice.key);
    expect(await aliceClient.agents.list()).toMatchObject({ items: [] });
    const theirs = await aliceClient.agents.create({ name: 'acme-agent' });
    expect((await aliceClient.agents.list()).items.map((a) => a.id)).toEqual([theirs.id]);
    expect((await admin.agents.list()).items.map((a) => a.id)).toEqual([mine.id]);
    // Another organisation's object is not there at all: 404, never 403.
    expect(await status(aliceClient.agents.retrieve(mine.id))).toBe(404);
    expect(await status(admin.agents.retrieve(theirs.id))).toBe(404);
    // Letta's other spelling of the credential works too.
    const bare = await http('GET', `${server.baseURL}/v1/agents/`, undefined, {
      'x-bare-password': `password ${alice.key}`,
    });
    expect(bare.status).toBe(200);
    expect(bare.body.map((a: { id: string }) => a.id)).toEqual([theirs.id]);
    if (dialect === 'sqlite') {
      const orgs = (await http('GET', `${server.baseURL}/v1/admin/orgs/`, undefined, auth(PASSWORD))).body;
      acmeOrgId = orgs.find((o: { name: string }) => o.name === 'acme').id;
      expect(existsSync(join(server.config.dataDir, 'orgs', `${acmeOrgId}.db`))).toBe(true);
    }
  });

  it('refuses no credential, a wrong one, and the admin routes to a key that is not an admin', async () => {
    expect(await status(sdk(server, null).agents.list())).toBe(401);
    expect(await status(sdk(server, 'cairn-000000000000-nope').agents.list())).toBe(401);
    expect(await status(sdk(server, `${alice.key}x`).agents.list())).toBe(401);
    for (const path of ['/v1/admin/orgs/', '/v1/admin/users/'])
      expect((await http('GET', `${server.baseURL}${path}`, undefined, auth(alice.key))).status).toBe(403);
    expect((await http('POST', `${server.baseURL}/v1/admin/orgs/`, { name: 'x' }, auth(alice.key))).status).toBe(403);
    // Health stays open for probes.
    expect((await http('GET', `${server.baseURL}/v1/health/`)).status).toBe(200);
  });

  it("manages organisations and users in Letta's shapes for the password and an admin key", async () => {
    const bob = await createKey(server, '--user', 'bob', '--admin');
    for (const credential of [PASSWORD, bob.key]) {
      const orgs = await http('GET', `${server.baseURL}/v1/admin/orgs/`, undefined, auth(credential));
      expect(orgs.status).toBe(200);
      expect(orgs.body).toEqual(
        expect.arrayContaining([
          {
            id: 'org-00000000-0000-4000-8000-000000000000',
            name: 'default_org',
            created_at: expect.any(String),
            privileged_tools: false,
          },
          expect.objectContaining({ name: 'acme', privileged_tools: false }),
        ]),
      );
    }
    const created = await http('POST', `${server.baseURL}/v1/admin/orgs/`, { name: 'globex' }, auth(bob.key));
    expect(created.status).toBe(200);
    const orgId = created.body.id as string;
    expect(orgId).toMatch(/^org-[0-9a-f-]{36}$/);
    expect((await http('POST', `${server.baseURL}/v1/admin/orgs/`, { name: 'globex' }, auth(bob.key))).status).toBe(
      409,
    );
    const user = await http(
      'POST',
      `${server.baseURL}/v1/admin/users/`,
      { name: 'carol', organization_id: orgId },
      auth(PASSWORD),
    );
    expect(user.body).toEqual({
      id: expect.stringMatching(/^user-/),
      organization_id: orgId,
      name: 'carol',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      is_deleted: false,
    });
    const renamed = await http(
      'PUT',
      `${server.baseURL}/v1/admin/users/`,
      { id: user.body.id, name: 'caroline' },
      auth(PASSWORD),
    );
    expect(renamed.body.name).toBe('caroline');
    const users = (await http('GET', `${server.baseURL}/v1/admin/users/`, undefined, auth(PASSWORD))).body;
    expect(users.map((u: { name: string }) => u.name)).toEqual(
      expect.arrayContaining(['default_user', 'alice', 'bob', 'caroline']),
    );
    expect((await http('GET', `${server.baseURL}/v1/admin/orgs/?org_id=bad`, undefined, auth(PASSWORD))).status).toBe(
      200,
    );
    expect(
      (await http('DELETE', `${server.baseURL}/v1/admin/orgs/?org_id=bad`, undefined, auth(PASSWORD))).status,
    ).toBe(422);
    expect(
      (
        await http(
          'DELETE',
          `${server.baseURL}/v1/admin/orgs/?org_id=org-00000000-0000-4000-8000-000000000000`,
          undefined,
          auth(PASSWORD),
        )
      ).status,
    ).toBe(400);
  });

  it('lets the user_id header pick a user: any for an admin, only its own organisation for a key', async () => {
    const users = (await http('GET', `${server.baseURL}/v1/admin/users/`, undefined, auth(PASSWORD))).body as {
      id: string;
      name: string;
    }[];
    const aliceUser = users.find((u) => u.name === 'alice')!;
    const acmeAgents = (await sdk(server, alice.key).agents.list()).items.map((a) => a.id);
    const asAlice = await sdk(server, PASSWORD, { user_id: aliceUser.id }).agents.list();
    expect(asAlice.items.map((a) => a.id)).toEqual(acmeAgents);
    const dave = await createKey(server, '--user', 'dave');
    const daveDefault = (await sdk(server, dave.key).agents.list()).items.map((a) => a.id);
    // A key that is no admin naming another organisation's user stays where it is, as Letta treats a bad user_id.
    expect((await sdk(server, dave.key, { user_id: aliceUser.id }).agents.list()).items.map((a) => a.id)).toEqual(
      daveDefault,
    );
    expect((await sdk(server, dave.key, { user_id: 'agent-not-a-user' }).agents.list()).items.map((a) => a.id)).toEqual(
      daveDefault,
    );
  });

  it('lists keys without their secrets and refuses a key once it is revoked', async () => {
    const listed = await keysCli(server, 'list', '--json');
    expect(listed).not.toContain(alice.key);
    const keys = JSON.parse(listed) as {
      id: string;
      user_name: string;
      last_used_at: string | null;
      revoked_at: string | null;
    }[];
    expect(keys.find((k) => k.id === alice.id)).toMatchObject({
      user_name: 'alice',
      revoked_at: null,
      last_used_at: expect.any(String),
    });
    await keysCli(server, 'revoke', alice.prefix);
    expect(await status(sdk(server, alice.key).agents.list())).toBe(401);
    const after = JSON.parse(await keysCli(server, 'list', '--json')) as typeof keys;
    expect(after.find((k) => k.id === alice.id)?.revoked_at).toEqual(expect.any(String));
    await expect(keysCli(server, 'revoke', alice.prefix)).rejects.toThrow(/no active key/);
  });

  it('deletes an organisation with its users, keys and database', async () => {
    const erin = await createKey(server, '--user', 'erin', '--org', 'initech');
    await sdk(server, erin.key).agents.create({ name: 'doomed' });
    const orgs = (await http('GET', `${server.baseURL}/v1/admin/orgs/`, undefined, auth(PASSWORD))).body;
    const initech = orgs.find((o: { name: string }) => o.name === 'initech').id as string;
    const deleted = await http(
      'DELETE',
      `${server.baseURL}/v1/admin/orgs/?org_id=${initech}`,
      undefined,
      auth(PASSWORD),
    );
    expect(deleted.status).toBe(200);
    expect(await status(sdk(server, erin.key).agents.list())).toBe(401);
    if (dialect === 'sqlite') expect(existsSync(join(server.config.dataDir, 'orgs', `${initech}.db`))).toBe(false);
    else
      expect(await databaseExists(tenantDatabaseName(new URL(server.config.pgUri!).pathname.slice(1), initech))).toBe(
        false,
      );
  });
});

describe('an open server (no password) [sqlite]', () => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn('sqlite');
  }, 60_000);
  afterAll(() => server?.close());

  it('stays open until the first key exists, then needs a key', async () => {
    expect(await status(sdk(server, null).agents.list())).toBe(200);
    const frank = await createKey(server, '--user', 'frank');
    expect(await status(sdk(server, null).agents.list())).toBe(401);
    expect(await status(sdk(server, frank.key).agents.list())).toBe(200);
    await keysCli(server, 'revoke', frank.id);
    expect(await status(sdk(server, null).agents.list())).toBe(200);
  });
});

describe.runIf(testDialects().includes('postgres'))('two processes on one PostgreSQL database', () => {
  let first: TestCairn;
  let second: Cairn;
  let secondURL: string;
  beforeAll(async () => {
    first = await startCairn('postgres', { password: PASSWORD });
    second = await createCairn(first.config, createLogger('silent'));
    await second.app.listen({ host: '127.0.0.1', port: 0 });
    const address = second.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    secondURL = `http://127.0.0.1:${address.port}`;
  }, 120_000);
  afterAll(async () => {
    await second?.close();
    const pgUri = first?.config.pgUri;
    await first?.close();
    if (pgUri) await dropTenantDatabases(pgUri);
  });

  it('see the same keys, revocations and tenant data', async () => {
    const grace = await createKey(first, '--user', 'grace', '--org', 'hooli');
    const agent = await sdk(first, grace.key).agents.create({ name: 'shared' });
    const onSecond = new Letta({ baseURL: secondURL, apiKey: grace.key, maxRetries: 0 });
    expect((await onSecond.agents.list()).items.map((a) => a.id)).toEqual([agent.id]);
    await keysCli(first, 'revoke', grace.id);
    expect(await status(onSecond.agents.list())).toBe(401);
    expect(await status(sdk(first, grace.key).agents.list())).toBe(401);
  });
});

const auth = (credential: string) => ({ authorization: `Bearer ${credential}` });
