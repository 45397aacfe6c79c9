/**
 * Full-disk campaign: Cairn on SQLite with its data directory on a small tmpfs of the campaign's own (`--size-mb`;
 * mounting needs root). A ballast file (`--ballast-mb`) is written first, then a bounded loop of writes (agent
 * creates, block writes, archival inserts, sync turns with the fake LLM) runs until the disk is full. Then:
 *   - every write that failed answered a 507 (or a 503) with Letta's `{detail}`, never a 500;
 *   - every write acknowledged before is read back, and `PRAGMA integrity_check` is clean;
 *   - the ballast is deleted and every kind of write succeeds again within `--recover-s`, the same Cairn process.
 * Exits 3 without a verdict when the tmpfs cannot be mounted (not root, or no permission), with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { startFakeLlm } from '../../test/support/fake-llm.js';
import { call, request, sleep, spawnCairn, Verdict, type Answer, type CairnProcess } from './harness.js';

const { values: args } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '48' },
    'ballast-mb': { type: 'string', default: '4' },
    'max-writes': { type: 'string', default: '20000' },
    'recover-s': { type: 'string', default: '20' },
  },
});
const MiB = 1024 * 1024;
const verdict = new Verdict();
const mountPoint = mkdtempSync(join(tmpdir(), 'cairn-full-disk-'));
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${args['size-mb']}m,mode=0700`, 'tmpfs', mountPoint], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
} catch (error) {
  rmSync(mountPoint, { recursive: true, force: true });
  const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
  console.error(`cannot mount a tmpfs at ${mountPoint}: ${stderr || String(error)}`);
  process.exit(3);
}

type Kind = 'agent' | 'block' | 'passage' | 'turn';
const failures: Record<string, number> = {};
const summary: Record<string, unknown> = { sizeMiB: Number(args['size-mb']), ballastMiB: Number(args['ballast-mb']) };
let server: CairnProcess | undefined;
try {
  // Written before Cairn starts, so deleting it later returns space that the loop could not have used.
  const ballast = join(mountPoint, 'ballast');
  writeFileSync(ballast, Buffer.alloc(Number(args['ballast-mb']) * MiB, 1));
  const dataDir = join(mountPoint, 'data');
  mkdirSync(dataDir);
  const llm = await startFakeLlm();
  llm.setDefault({ text: 'Noted, I will keep that in mind for later.' });
  server = await spawnCairn({ dataDir, env: llm.env() });
  const base = server.baseURL;

  const agents = new Map<string, { block: string | undefined }>();
  const passages = new Map<string, string>();
  const messages = new Set<string>();
  // Sizeable values so the disk fills in a bounded number of requests.
  const filler = (n: number) => `${n} `.padEnd(1500, 'lorem ipsum dolor sit amet ');
  let agentIds: string[] = [];

  const operations: Record<Kind, (n: number) => Promise<Answer>> = {
    agent: async (n) => {
      const r = await request(base, 'POST', '/agents/', {
        name: `full-disk-${n}`,
        model: 'openai/gpt-4o-mini',
        memory_blocks: [{ label: 'human', value: filler(n), limit: 100_000 }],
      });
      if (r.status === 200) agents.set(r.json().id, { block: filler(n) });
      return r;
    },
    block: async (n) => {
      const id = agentIds[n % agentIds.length]!;
      const value = filler(n).repeat(4);
      const r = await request(base, 'PATCH', `/agents/${id}/core-memory/blocks/human`, { value });
      if (r.status === 200) agents.get(id)!.block = value;
      return r;
    },
    passage: async (n) => {
      const id = agentIds[n % agentIds.length]!;
      const r = await request(base, 'POST', `/agents/${id}/archival-memory`, { text: filler(n).repeat(2) });
      if (r.status === 200) for (const p of [r.json()].flat()) passages.set(p.id, id);
      return r;
    },
    turn: async (n) => {
      const id = agentIds[n % agentIds.length]!;
      const r = await request(base, 'POST', `/agents/${id}/messages`, {
        messages: [{ role: 'user', content: `Turn ${n}: ${filler(n)}` }],
      });
      if (r.status === 200) {
        const body = r.json();
        verdict.check(
          body.stop_reason?.stop_reason === 'end_turn',
          `turn ${n} answered 200 without end_turn: ${r.text.slice(0, 300)}`,
        );
        if (body.stop_reason?.stop_reason === 'end_turn') for (const m of body.messages) messages.add(m.id);
      }
      return r;
    },
  };
  const kinds = Object.keys(operations) as Kind[];

  /** A failed write must be a 507 or 503 with a string `detail`. */
  function judge(kind: Kind, n: number, r: Answer): boolean {
    if (r.status === 200) return true;
    failures[`${kind} ${r.status}`] = (failures[`${kind} ${r.status}`] ?? 0) + 1;
    let detail: unknown;
    try {
      detail = r.json().detail;
    } catch {
      detail = undefined;
    }
    const clear = (r.status === 507 || r.status === 503) && typeof detail === 'string';
    // The first wrong answer carries the server's log: it names the error that escaped the mapping.
    const log = clear || verdict.violations.length > 0 ? '' : `; server log: ${server!.stderr().slice(-2000)}`;
    verdict.check(clear, `${kind} ${n} answered ${r.status}: ${r.text.slice(0, 300)}${log}`);
    return false;
  }

  await operations.agent(0);
  agentIds = [...agents.keys()];
  verdict.check(agentIds.length === 1, 'the first agent could not be created');
  // Until every kind of write has failed several times in a row: then the disk is full, not merely fragmented.
  const failedInARow: Record<Kind, number> = { agent: 0, block: 0, passage: 0, turn: 0 };
  let writes = 0;
  for (; writes < Number(args['max-writes']); writes++) {
    const kind = kinds[writes % kinds.length]!;
    const ok = judge(kind, writes, await operations[kind](writes));
    failedInARow[kind] = ok ? 0 : failedInARow[kind] + 1;
    if (kind === 'agent' && ok) agentIds = [...agents.keys()];
    if (kinds.every((k) => failedInARow[k] >= 3)) break;
  }
  verdict.check(writes < Number(args['max-writes']), `the disk never filled in ${writes} writes`);
  summary.writesUntilFull = writes;
  summary.acknowledged = { agents: agents.size, passages: passages.size, messages: messages.size };
  console.log(`full after ${writes} writes: ${JSON.stringify(failures)}`);

  async function readBack(when: string): Promise<void> {
    const storedAgents = new Set(
      (await call(base, 'GET', '/agents/?limit=10000')).map((a: { id: string }) => a.id) as string[],
    );
    const lostAgents = [...agents.keys()].filter((id) => !storedAgents.has(id));
    verdict.check(lostAgents.length === 0, `${when}: ${lostAgents.length} acknowledged agents lost`);
    let lostBlocks = 0;
    let lostPassages = 0;
    let lostMessages = 0;
    const storedMessages = new Set<string>();
    for (const [id, { block }] of agents) {
      if (!storedAgents.has(id)) continue;
      const value = (await call(base, 'GET', `/agents/${id}/core-memory/blocks/human`)).value;
      if (value !== block) lostBlocks++;
      const stored = new Set(
        (await call(base, 'GET', `/agents/${id}/archival-memory?limit=10000`)).map((p: { id: string }) => p.id),
      );
      for (const [passage, owner] of passages) if (owner === id && !stored.has(passage)) lostPassages++;
      for (const m of await call(base, 'GET', `/agents/${id}/messages?limit=10000`)) storedMessages.add(m.id);
    }
    for (const id of messages) if (!storedMessages.has(id)) lostMessages++;
    verdict.check(lostBlocks === 0, `${when}: ${lostBlocks} acknowledged block writes lost`);
    verdict.check(lostPassages === 0, `${when}: ${lostPassages} acknowledged passages lost`);
    verdict.check(lostMessages === 0, `${when}: ${lostMessages} acknowledged messages lost`);
    // A second connection, as Cairn keeps running: WAL mode lets it read a consistent snapshot.
    const db = new Database(join(dataDir, 'cairn.db'), { readonly: true });
    try {
      const integrity = db.pragma('integrity_check', { simple: true });
      verdict.check(integrity === 'ok', `${when}: integrity_check: ${String(integrity)}`);
    } finally {
      db.close();
    }
  }
  await readBack('while full');

  rmSync(ballast);
  const freed = performance.now();
  const pending = new Set<Kind>(kinds);
  let last: string[] = [];
  for (let n = writes + 1; pending.size > 0 && performance.now() - freed < Number(args['recover-s']) * 1000; n++) {
    last = [];
    for (const kind of [...pending]) {
      const r = await operations[kind](n);
      if (judge(kind, n, r)) pending.delete(kind);
      else last.push(`${kind} ${r.status}`);
      if (kind === 'agent' && r.status === 200) agentIds = [...agents.keys()];
    }
    if (pending.size > 0) await sleep(250);
  }
  summary.recoveredMs = Math.round(performance.now() - freed);
  verdict.check(
    pending.size === 0,
    `writes still failing ${args['recover-s']} s after space returned: ${last.join(', ')}; server log: ${server.stderr().slice(-1500)}`,
  );
  await readBack('after recovery');
  verdict.check(server.child.exitCode === null && server.child.signalCode === null, 'Cairn exited');
  summary.failures = failures;
  await llm.close();
} catch (error) {
  verdict.check(false, `campaign aborted: ${String(error)}`);
} finally {
  // A running Cairn holds the mount busy.
  await server?.stop();
  try {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  } catch (error) {
    console.error(`could not unmount ${mountPoint}: ${String(error)}`);
  }
}
verdict.finish(summary);
