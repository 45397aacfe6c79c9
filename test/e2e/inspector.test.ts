import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Letta from '@letta-ai/letta-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/connection.js';
import { browserAvailable, launchChromium, see, seriousViolations } from '../support/browser.js';
import { buildProject, type Built } from '../support/build.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

const root = resolve(import.meta.dirname, '../..');
/** Where the tests leave a screenshot of each page for a reviewer (README: "Memory inspector"). */
const SHOTS = process.env.CAIRN_SCREENSHOT_DIR ?? join(root, '.cache/screenshots/inspector');
const PASSWORD = 'inspector-e2e-password';

interface Served {
  url: string;
  child: ChildProcess;
  stderr(): string;
  close(): Promise<void>;
}

/** `cairn serve` from the build, on a free port; the URL is the one it prints for people. */
async function serve(built: Built, env: Record<string, string>, args: string[] = []): Promise<Served> {
  const home = mkdtempSync(join(tmpdir(), 'cairn-ui-'));
  const child = spawn(process.execPath, [built.cli, 'serve', '--port', '0', '--data-dir', home, ...args], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no inspector URL printed: ${stderr}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /memory inspector at (http:\/\/\S+)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolveUrl(found[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`cairn exited: ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const run = browserAvailable() ? describe : describe.skip;

run('memory inspector in Chromium', () => {
  let built: Built;
  let llm: FakeLlm;
  let server: Served;
  let client: Letta;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let agentId: string;
  let projectAgentId: string;

  const shot = async (name: string, target: Page = page) => {
    await target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const expectAccessible = async (target: Page = page) => {
    const violations = await seriousViolations(target);
    expect(violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual(
      [],
    );
  };
  const open = async (hash: string) => {
    await page.goto(`${server.url}${hash}`);
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [built, llm] = await Promise.all([buildProject(), startFakeLlm()]);
    server = await serve(built, { ...llm.env(), LETTA_SERVER_PASSWORD: PASSWORD });
    client = new Letta({ baseURL: server.url.replace(/\/$/, ''), apiKey: PASSWORD, maxRetries: 0 });
    // What the Claude Code hooks make for a project, and an ordinary agent.
    const hooks = createClient(
      { baseURL: server.url.replace(/\/$/, ''), token: PASSWORD },
      { actor: 'hook:claude-code' },
    );
    projectAgentId = (
      await hooks.agents.create({
        name: 'claude-code myapp',
        tags: ['project:myapp', 'source:claude-code'],
        include_base_tools: false,
        memory_blocks: [{ label: 'project', value: 'A todo app in Go.', description: 'What this project is' }],
      })
    ).id;
    const conversation = await hooks.conversations.create({
      agent_id: projectAgentId,
      summary: 'Claude Code session 3f2a9c1e-0000-4000-8000-000000000000',
    } as Parameters<Letta['conversations']['create']>[0]);
    await hooks.post(`/v1/agents/${projectAgentId}/messages/capture`, {
      body: {
        conversation_id: conversation.id,
        messages: [
          { role: 'user', content: 'Add a due date to todos' },
          { role: 'assistant', content: 'Added a due_date column and a migration.' },
        ],
      },
    });
    const agent = await client.agents.create({
      name: 'ada-helper',
      // Anthropic's thinking blocks become reasoning messages, which the conversation shows on demand.
      model: 'anthropic/claude-sonnet-4-5-20250929',
      tags: ['demo'],
      tools: ['memory_insert'],
      tool_rules: [{ type: 'requires_approval', tool_name: 'memory_insert' }],
      memory_blocks: [
        { label: 'human', value: 'Name: Ada', limit: 40 },
        { label: 'persona', value: 'A careful assistant.', read_only: true },
      ],
    });
    agentId = agent.id;
    const shared = await client.blocks.create({ label: 'team', value: 'Shared team notes' });
    await client.agents.blocks.attach(shared.id, { agent_id: agentId });
    await client.agents.blocks.attach(shared.id, { agent_id: projectAgentId });
    await client.agents.passages.create(agentId, { text: 'Ada keeps a pelican named Gus.', tags: ['pets'] });
    await client.agents.passages.create(agentId, { text: 'Ada works on analytical engines.', tags: ['work'] });
    await client.agents.passages.create(agentId, { text: 'Ada prefers tea over coffee.', tags: ['food', 'pets'] });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    // A missing element fails the test in seconds, naming the locator, not at the suite's 30 s timeout.
    context.setDefaultTimeout(5_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await llm?.close();
    built?.remove();
  });

  it('keeps the first page within its JS budget and sends the hashed files with long cache headers', async () => {
    const html = await (await fetch(server.url)).text();
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(html)![1]!;
    const response = await fetch(`${server.url.replace(/\/$/, '')}${script}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const gzipped = statSync(join(built.cli, '../../ui', `${script}.gz`)).size;
    console.log(`memory inspector first-page JS: ${(gzipped / 1024).toFixed(1)} kB gzipped`);
    expect(gzipped).toBeLessThan(150 * 1024);
    // The API stays behind the password.
    expect((await fetch(`${server.url}v1/agents/`)).status).toBe(401);
  });

  it('asks for the password once per tab, and keeps it out of the URL and out of storage in clear', async () => {
    await page.goto(server.url);
    await page.getByLabel('Server password').fill('wrong');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await see(page.getByRole('alert')).text('Wrong password.');
    await expectAccessible();
    await shot('01-password');
    await page.getByLabel('Server password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    const storage = await page.evaluate<string>('JSON.stringify({ ...sessionStorage, ...localStorage })');
    expect(storage).not.toContain(PASSWORD);
    expect(storage).toContain('cairn.password');
    expect(page.url()).not.toContain(PASSWORD);
    await page.reload();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    expect(await page.getByLabel('Server password').count()).toBe(0);
    // A new tab asks again.
    const other = await context.newPage();
    await other.goto(server.url);
    await other.getByLabel('Server password').waitFor();
    await other.close();
  });

  it('lists agents with counts; Claude Code project agents stand out; search by name and tag', async () => {
    await open('#/');
    const project = page.locator(`li[data-agent-id="${projectAgentId}"]`);
    await see(page.getByRole('region', { name: 'Claude Code projects' }).locator('li')).count(1);
    await see(project).contains('Claude Code · myapp');
    await see(project).className(/project/);
    const ada = page.locator(`li[data-agent-id="${agentId}"]`);
    await see(ada.locator('dd').nth(0)).text('3');
    await see(ada.locator('dd').nth(1)).text('3');
    await expectAccessible();
    await shot('02-agents');
    await page.getByLabel('Name').fill('ada');
    await see(page.locator('li[data-agent-id]')).count(1);
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Tag').fill('project:myapp');
    await see(page.locator('li[data-agent-id]')).count(1);
    await see(page.locator(`li[data-agent-id="${projectAgentId}"]`)).visible();
    await page.getByLabel('Tag').fill('');
  });

  it('edits a block inline: the limit error is shown as the API words it, a valid edit is saved', async () => {
    await open(`#/agents/${agentId}/memory`);
    const human = page.locator('article[data-block-label="human"]');
    await see(page.locator('article[data-block-label="persona"]')).contains('read-only');
    await see(page.locator('article[data-block-label="team"]')).contains('shared with claude-code myapp');
    await see(human.getByRole('meter')).attribute('aria-valuenow', '9');
    await expectAccessible();
    await shot('03-memory');
    await human.getByRole('button', { name: 'Edit' }).click();
    const tooLong = 'Name: Ada Lovelace, mathematician and writer';
    await human.getByLabel('Value').fill(tooLong);
    await human.getByRole('button', { name: 'Save' }).click();
    await see(human.getByRole('alert')).text(
      `value: Value length (${tooLong.length} characters) exceeds block limit (40 characters)`,
    );
    await shot('04-memory-limit-error');
    await human.getByLabel('Value').fill('Name: Ada Lovelace');
    await human.getByRole('button', { name: 'Save' }).click();
    await see(human.locator('pre.value')).text('Name: Ada Lovelace');
    const block = await client.agents.blocks.retrieve('human', { agent_id: agentId });
    expect(block.value).toBe('Name: Ada Lovelace');
  });

  it('shows who changed a block with a diff, and restores a version in one click', async () => {
    await open(`#/agents/${agentId}/memory`);
    const human = page.locator('article[data-block-label="human"]');
    await human.getByRole('button', { name: 'History' }).click();
    const versions = human.locator('button.version');
    await see(versions).count(2);
    await see(versions.nth(0)).contains('API (inspector)');
    await see(versions.nth(1)).contains('API (');
    await see(human.locator('.diff .added')).text(/Name: Ada Lovelace/);
    await see(human.locator('.diff .removed')).text(/Name: Ada$/);
    await expectAccessible();
    await shot('05-history-diff');
    await versions.nth(1).click();
    await human.getByRole('button', { name: 'Restore version 1' }).click();
    await see(human.locator('pre.value')).text('Name: Ada');
    await see(versions.nth(0)).contains('restores v1');
    const history = await client.get<{ version: number; restored_from: number | null }[]>(
      `/v1/blocks/${(await client.agents.blocks.retrieve('human', { agent_id: agentId })).id}/history`,
    );
    expect(history[0]).toMatchObject({ version: 3, restored_from: 1 });
  });

  it('shows a change made elsewhere without a reload, in under a second', async () => {
    await open(`#/agents/${agentId}/memory`);
    const hooks = createClient(
      { baseURL: server.url.replace(/\/$/, ''), token: PASSWORD },
      { actor: 'hook:claude-code' },
    );
    const latencies: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const value = `Name: Ada (live edit ${i})`;
      const started = Date.now();
      await hooks.agents.blocks.update('human', { agent_id: agentId, value });
      await page.locator('article[data-block-label="human"] pre.value', { hasText: value }).waitFor({ timeout: 5_000 });
      latencies.push(Date.now() - started);
    }
    latencies.sort((a, b) => a - b);
    console.log(`live update latency (write to visible), ms: ${latencies.join(', ')}`);
    expect(latencies.at(-1)).toBeLessThan(1_000);
  });

  it('searches archival memory (modes, tags), adds and deletes passages', async () => {
    await open(`#/agents/${agentId}/archival`);
    await see(page.locator('li.passage')).count(3);
    await page.getByLabel('Query').fill('pelican');
    await page.getByLabel('Mode').selectOption('lexical');
    await page.getByRole('button', { name: 'Search' }).click();
    await see(page.locator('li.passage')).count(1);
    await see(page.locator('li.passage')).contains('pelican named Gus');
    await page.getByLabel('Query').fill('Ada');
    await page.getByLabel('Tags (comma-separated)').first().fill('pets');
    await page.getByRole('button', { name: 'Search' }).click();
    await see(page.locator('li.passage')).count(2);
    await page.getByLabel('Tags match').selectOption('all');
    await page.getByLabel('Tags (comma-separated)').first().fill('pets, food');
    await page.getByRole('button', { name: 'Search' }).click();
    await see(page.locator('li.passage')).count(1);
    await see(page.locator('li.passage')).contains('tea');
    await expectAccessible();
    await shot('06-archival-search');
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByText('Add a passage').click();
    await page.getByLabel('Text').fill('Ada met Babbage in 1833.');
    await page.locator('#new-passage-tags').fill('history');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await see(page.locator('li.passage')).count(4);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('li.passage', { hasText: 'Babbage' }).getByRole('button', { name: 'Delete passage' }).click();
    await see(page.locator('li.passage')).count(3);
    expect((await client.agents.passages.list(agentId)).map((p) => p.text)).not.toContain('Ada met Babbage in 1833.');
  });

  it('streams a chat turn over SSE and asks for approval of a tool call', async () => {
    llm.script(
      {
        thinking: 'The user shared a preference; memory_insert keeps it.',
        toolCalls: [{ id: 'call_ui1', name: 'memory_insert', arguments: { label: 'human', new_string: 'Likes tea' } }],
      },
      { text: 'I will remember that you like tea.', chunkDelayMs: 30 },
    );
    await open(`#/agents/${agentId}/chat`);
    await page.getByLabel('Message').fill('I like tea');
    await page.keyboard.press('Enter');
    const approval = page.getByRole('region', { name: 'Approval needed' });
    await see(approval).contains('memory_insert');
    await expectAccessible();
    await shot('07-chat-approval');
    await approval.getByRole('button', { name: 'Approve' }).click();
    await see(page.locator('.message.assistant').last()).text(/I will remember that you like tea\./);
    await see(page.getByRole('status')).contains('Stopped: end_turn');
    await shot('08-chat-streamed');
    expect((await client.agents.blocks.retrieve('human', { agent_id: agentId })).value).toContain('Likes tea');
    const streamed = llm.calls.at(-1)!;
    expect(streamed.stream).toBe(true);
  });

  it('shows conversations with tool calls folded, reasoning on demand, and Claude Code sessions as their own', async () => {
    await open(`#/agents/${agentId}/conversations`);
    const call = page.locator('.message.folded details', { hasText: 'memory_insert' }).first();
    await see(call).visible();
    expect(await call.evaluate((d) => d.hasAttribute('open'))).toBe(false);
    const reasoning = page.locator('.message.folded details', { hasText: 'Reasoning' }).first();
    await see(reasoning.getByText('memory_insert keeps it')).hidden();
    await reasoning.locator('summary').click();
    await see(reasoning.getByText('memory_insert keeps it')).visible();
    await expectAccessible();
    await shot('09-conversation');
    await open(`#/agents/${projectAgentId}/conversations`);
    await page.getByRole('link', { name: /Claude Code session 3f2a9c1e/ }).click();
    await see(page.locator('.message.user')).contains('Add a due date to todos');
    await see(page.locator('.message.assistant')).contains('due_date column');
    await expectAccessible();
    await shot('10-claude-code-session');
  });

  it('lists runs and their steps with status, stop reason, duration and tokens', async () => {
    await open(`#/agents/${agentId}/runs`);
    const rows = page.locator('table.runs > tbody > tr');
    await see(rows).count(2);
    await see(rows.nth(0)).contains('completed');
    await see(rows.nth(0)).contains('end_turn');
    await see(rows.nth(1)).contains('requires_approval');
    await rows.nth(0).getByRole('link').click();
    const steps = page.locator('.steps');
    await see(steps).contains('tokens in all');
    await see(steps.locator('tbody tr')).count(1);
    await see(steps.locator('tbody tr td').nth(6)).text(/^[1-9]\d*$/);
    await expectAccessible();
    await shot('11-runs');
  });

  it('works by keyboard alone', async () => {
    await open('#/');
    await page.reload();
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    await page.keyboard.press('Tab');
    await see(page.getByRole('link', { name: 'Skip to content' })).focused();
    // Tab to the agent's link and follow it, then to the persona block's Edit button.
    await page.getByRole('link', { name: 'ada-helper' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Core memory' }).waitFor();
    const persona = page.locator('article[data-block-label="persona"]');
    await persona.getByRole('button', { name: 'Edit' }).focus();
    await page.keyboard.press('Enter');
    await see(persona.getByLabel('Value')).visible();
    await persona.getByLabel('Value').focus();
    await page.keyboard.press('End');
    await page.keyboard.type(' Patient.');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await see(persona.getByRole('button', { name: 'Save' })).focused();
    await page.keyboard.press('Enter');
    await see(persona.locator('pre.value')).text('A careful assistant. Patient.');
  });

  it('fits a phone-width screen, in light and dark', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await open(`#/agents/${agentId}/memory`);
      await page.locator('article[data-block-label="human"]').waitFor();
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow as number).toBeLessThanOrEqual(0);
      await shot('12-phone-memory-light');
      await page.getByLabel('Colour scheme').selectOption('dark');
      await see(page.locator('html')).attribute('data-theme', 'dark');
      await expectAccessible();
      await shot('13-phone-memory-dark');
      await open('#/');
      await page.locator('li[data-agent-id]').first().waitFor();
      await expectAccessible();
      await shot('14-phone-agents-dark');
      await open(`#/agents/${agentId}/runs`);
      await page.locator('table.runs').waitFor();
      await expectAccessible();
      await shot('15-phone-runs-dark');
      await open(`#/agents/${agentId}/conversations`);
      await page.locator('.messages').waitFor();
      await expectAccessible();
      await shot('16-phone-conversation-dark');
    } finally {
      await page.getByLabel('Colour scheme').selectOption('system');
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});

describe('CAIRN_UI', () => {
  let built: Built;
  beforeAll(async () => {
    built = await buildProject();
  }, 120_000);
  afterAll(() => built?.remove());

  const page = async (env: Record<string, string>, args: string[]) => {
    const home = mkdtempSync(join(tmpdir(), 'cairn-ui-'));
    const child = spawn(process.execPath, [built.cli, 'serve', '--data-dir', home, ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const port = args[args.indexOf('--port') + 1];
      for (let i = 0; i < 300; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/v1/health`)).ok) break;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const response = await fetch(`http://127.0.0.1:${port}/`);
      return { status: response.status, stderr };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(home, { recursive: true, force: true });
    }
  };
  const port = () => String(20_000 + Math.floor(Math.random() * 20_000));

  it('is off with CAIRN_UI=off, off by default beyond loopback, and on there with CAIRN_UI=on', async () => {
    const off = await page({ CAIRN_UI: 'off' }, ['--port', port()]);
    expect(off.status).toBe(404);
    expect(off.stderr).not.toContain('memory inspector at');
    const remote = await page({ LETTA_SERVER_PASSWORD: 'pw' }, ['--host', '0.0.0.0', '--port', port()]);
    expect(remote.status).toBe(404);
    expect(remote.stderr).toContain('memory inspector off');
    const forced = await page({ LETTA_SERVER_PASSWORD: 'pw', CAIRN_UI: 'on' }, ['--host', '0.0.0.0', '--port', port()]);
    expect(forced.status).toBe(200);
    expect(forced.stderr).toMatch(/memory inspector at http:\/\/127\.0\.0\.1:\d+\//);
  }, 120_000);
});
