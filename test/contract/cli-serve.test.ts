import { existsSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, freePort, removeCli, spawnCli, tempDir, waitForHealth, type CliProcess } from '../support/cli.js';

/** `cairn serve` as a user runs it: the compiled executable in its own process. */
describe('cairn serve', () => {
  const running: CliProcess[] = [];
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = tempDir('cairn-cli-data-');
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    await buildCli();
  });
  afterEach(async () => {
    for (const cli of running.splice(0)) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await removeCli();
  });

  const start = async (args: string[], env: Record<string, string> = {}) => {
    const cli = await spawnCli(['serve', ...args], env);
    running.push(cli);
    return cli;
  };

  it('takes --port, --host and --data-dir', async () => {
    const port = await freePort();
    const dir = dataDir();
    const cli = await start(['--port', String(port), '--host', '127.0.0.1', '--data-dir', dir]);
    expect(await waitForHealth(port, cli)).toMatchObject({ status: 'ok' });
    expect(existsSync(join(dir, 'cairn.db'))).toBe(true);
  });

  it('falls back to PORT, HOST and CAIRN_HOME', async () => {
    const port = await freePort();
    const dir = dataDir();
    const cli = await start([], { PORT: String(port), HOST: '127.0.0.1', CAIRN_HOME: dir });
    expect(await waitForHealth(port, cli)).toMatchObject({ status: 'ok' });
    expect(existsSync(join(dir, 'cairn.db'))).toBe(true);
  });

  it('refuses to bind beyond loopback without a password: non-zero exit, one-line reason', async () => {
    const cli = await start(['--host', '0.0.0.0', '--port', String(await freePort()), '--data-dir', dataDir()]);
    expect(await cli.exited).not.toBe(0);
    const lines = cli.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cairn: refusing to listen on 0\.0\.0\.0 without a password/);
  });

  it('binds beyond loopback with --allow-insecure-remote, or with a password', async () => {
    const port = await freePort();
    const open = await start([
      '--host',
      '0.0.0.0',
      '--port',
      String(port),
      '--data-dir',
      dataDir(),
      '--allow-insecure-remote',
    ]);
    expect(await waitForHealth(port, open)).toMatchObject({ status: 'ok' });
    const securedPort = await freePort();
    const secured = await start(['--host', '0.0.0.0', '--port', String(securedPort), '--data-dir', dataDir()], {
      LETTA_SERVER_PASSWORD: 'pw',
    });
    await waitForHealth(securedPort, secured);
    expect((await fetch(`http://127.0.0.1:${securedPort}/v1/agents/`)).status).toBe(401);
  });

  it('on SIGTERM finishes the request in flight, closes the database cleanly and exits 0', async () => {
    const port = await freePort();
    const dir = dataDir();
    const cli = await start(['--port', String(port), '--data-dir', dir]);
    await waitForHealth(port, cli);

    // A request whose body is still arriving when the signal lands.
    const body = JSON.stringify({ label: 'in-flight', value: 'finished after SIGTERM' });
    let signalledAt = 0;
    const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/v1/blocks/',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        cli.child.kill('SIGTERM');
        signalledAt = Date.now();
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    const answered = await reply;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).value).toBe('finished after SIGTERM');
    expect(await cli.exited).toBe(0);
    // The answered request's keep-alive connection must not hold the exit for its idle timeout (5 s).
    expect(Date.now() - signalledAt).toBeLessThan(3000);

    const wal = join(dir, 'cairn.db-wal');
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    const db = new SqliteDatabase(join(dir, 'cairn.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('select value from blocks where label = ?').get('in-flight')).toEqual({
      value: 'finished after SIGTERM',
    });
    db.close();
  });

  it('on SIGINT exits 0 and the data directory serves the same data on the next start', async () => {
    const port = await freePort();
    const dir = dataDir();
    const first = await start(['--port', String(port), '--data-dir', dir]);
    await waitForHealth(port, first);
    const created = (await (
      await fetch(`http://127.0.0.1:${port}/v1/blocks/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ label: 'kept', value: 'v' }),
      })
    ).json()) as { id: string };
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await start(['--port', String(port), '--data-dir', dir]);
    await waitForHealth(port, second);
    const fetched = (await (await fetch(`http://127.0.0.1:${port}/v1/blocks/${created.id}`)).json()) as {
      value: string;
    };
    expect(fetched.value).toBe('v');
  });

  it('rejects an invalid port with a one-line reason', async () => {
    const cli = await start(['--port', 'eighty', '--data-dir', dataDir()]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr().trim()).toBe('cairn: invalid port: eighty');
  });
});
