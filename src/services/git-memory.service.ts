import type { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { missing } from '../domain/errors.js';
import type { MemoryEventBus } from '../domain/memory-events.js';
import { CairnError } from '../lib/errors.js';
import {
  FILE_MODE,
  FLUSH_PKT,
  TREE_MODE,
  ZERO_SHA,
  encodeCommit,
  encodeTree,
  gitObject,
  parseCommit,
  parseTree,
  pktLine,
  readPktLines,
  sideBand,
  type GitObject,
  type GitObjectKind,
  type TreeEntry,
} from '../lib/git-objects.js';
import { nowIso } from '../lib/time.js';
import { DEFAULT_BLOCK_LIMIT } from '../schemas/block.js';
import type { BlockRecord } from '../store/block.store.js';
import type { Stores } from '../store/index.js';
import type { BlockService } from './block.service.js';
import { blockPath, labelOfPath, parseBlockFile, renderBlockFile, shownDescription } from './git-memory-files.js';
import { MEMORY_BRANCH, runGit, spawnGit, type GitRepositoryCache } from './git-memory-repo.js';

export type GitService = 'git-upload-pack' | 'git-receive-pack';

/** A path in a tree and what is there; trees are flattened to these and rebuilt from them. */
type FlatTree = Map<string, { mode: string; sha: string }>;

/** Why a push is refused: the text git prints after `! [remote rejected]`, and the lines it prints as `remote:`. */
class PushRefused extends Error {
  constructor(
    readonly reason: string,
    readonly details: string[] = [],
  ) {
    super(reason);
  }
}

const SERVER_AUTHOR = { name: 'Cairn', email: 'cairn@localhost' };
const SYNC_ATTEMPTS = 5;
const RECEIVE_CAPABILITIES = 'report-status side-band-64k quiet ofs-delta agent=cairn';

/** A path segment git itself would refuse to check out is never written into a repository. */
const UNSAFE_SEGMENT = /^(|\.|\.\.|\.git)$/i;

/**
 * Letta Code's git-backed memory ("memfs"): each agent's blocks as a git repository served over smart HTTP. The
 * blocks are the truth. Before every fetch or push the repository is brought up to the blocks (a change made
 * through the API or a memory tool becomes a commit); a push changes the blocks in one transaction with the move
 * of the head, or is refused with nothing changed. History is kept in the database (`memory_git_objects`,
 * `memory_git_heads`), so several processes serve one history; each keeps only a disk copy to run git on.
 */
export class GitMemoryService {
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly stores: Stores,
    private readonly blocks: BlockService,
    private readonly events: MemoryEventBus,
    private readonly cache: GitRepositoryCache,
    private readonly logger: Logger,
  ) {}

  /** `GET …/info/refs?service=…`: the ref advertisement, after bringing the repository up to the blocks. */
  async advertise(agentId: string, service: GitService, gitProtocol: string | undefined): Promise<Buffer> {
    const { dir, head } = await this.serialized(agentId, () => this.prepare(agentId));
    const announce = Buffer.concat([pktLine(`# service=${service}\n`), FLUSH_PKT]);
    if (service === 'git-receive-pack') {
      return Buffer.concat([announce, pktLine(`${head} ${MEMORY_BRANCH}\0${RECEIVE_CAPABILITIES}\n`), FLUSH_PKT]);
    }
    const protocol = protocolEnv(gitProtocol);
    const refs = await runGit(['upload-pack', '--stateless-rpc', '--advertise-refs', dir], { cwd: dir, env: protocol });
    if (refs.code !== 0) throw new Error(`git upload-pack --advertise-refs failed: ${refs.stderr.trim()}`);
    // As git http-backend: protocol v2 starts with its capability list, without the service line.
    return protocol.GIT_PROTOCOL?.includes('version=2') ? refs.stdout : Buffer.concat([announce, refs.stdout]);
  }

  /** `POST …/git-upload-pack`: git's own upload-pack answers, streamed from a child process. */
  async uploadPack(agentId: string, request: Readable, gitProtocol: string | undefined): Promise<Readable> {
    const { dir } = await this.serialized(agentId, () => this.prepare(agentId));
    const child = spawnGit(['upload-pack', '--stateless-rpc', dir], { cwd: dir, env: protocolEnv(gitProtocol) });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (code) => {
      if (code !== 0)
        this.logger.warn({ agentId, code, stderr: Buffer.concat(stderr).toString() }, 'upload-pack failed');
    });
    child.stdin.on('error', () => child.kill());
    request.on('error', () => child.kill());
    request.pipe(child.stdin);
    return child.stdout;
  }

  /**
   * `POST …/git-receive-pack`. Cairn answers the protocol itself (git only unpacks and walks objects), so every
   * decision (fast-forward, read-only, limits, the race with another push) is made in one database transaction.
   */
  async receivePack(agentId: string, body: Buffer): Promise<Buffer> {
    const parsed = readPktLines(body);
    if (!parsed) throw new CairnError(400, 'malformed receive-pack request');
    // Git's probe before a large push: an empty request, answered with nothing.
    if (parsed.lines.length === 0) return Buffer.alloc(0);
    const { updates, capabilities } = parseCommands(parsed.lines);
    const pack = body.subarray(parsed.end);
    const messages: string[] = [];
    let unpack = 'ok';
    const results = await this.serialized(agentId, async () => {
      const { dir, head } = await this.prepare(agentId);
      const outcome = new Map<string, string | null>();
      const candidates = updates.filter((u) => {
        const refusal = refuseUpdate(u, head, updates);
        if (refusal) outcome.set(u.ref, refusal);
        return !refusal;
      });
      const update = candidates[0];
      if (update) {
        try {
          await this.accept(agentId, dir, update, pack);
          outcome.set(update.ref, null);
        } catch (error) {
          if (error instanceof UnpackFailed) {
            unpack = error.message;
            outcome.set(update.ref, 'unpacker error');
          } else if (error instanceof PushRefused) {
            outcome.set(update.ref, error.reason);
            messages.push(...error.details);
          } else throw error;
        }
        // The copy on disk follows the database, whichever way the push went.
        await this.cache.refresh(agentId, this.stores.gitMemory, await this.stores.gitMemory.head(agentId));
      }
      return outcome;
    });
    const report = [pktLine(`unpack ${unpack}\n`)];
    for (const u of updates) {
      const refusal = results.get(u.ref);
      report.push(pktLine(refusal ? `ng ${u.ref} ${refusal}\n` : `ok ${u.ref}\n`));
    }
    report.push(FLUSH_PKT);
    if (!capabilities.has('side-band-64k'))
      return capabilities.has('report-status') ? Buffer.concat(report) : Buffer.alloc(0);
    const progress =
      messages.length > 0 ? sideBand(2, Buffer.from(messages.map((m) => `${m}\n`).join(''))) : Buffer.alloc(0);
    return Buffer.concat([progress, sideBand(1, Buffer.concat(report)), FLUSH_PKT]);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.locks.values());
    await this.cache.close();
  }

  // ---- push --------------------------------------------------------------------------------------------------

  private async accept(agentId: string, dir: string, update: RefUpdate, pack: Buffer): Promise<void> {
    const quarantine = await this.cache.quarantine(dir);
    const env = {
      GIT_DIR: dir,
      GIT_OBJECT_DIRECTORY: quarantine,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: join(dir, 'objects'),
    };
    if (pack.length > 0) {
      const indexed = await runGit(['index-pack', '--stdin', '--fix-thin', '--strict'], { cwd: dir, env, input: pack });
      if (indexed.code !== 0) throw new UnpackFailed(firstLine(indexed.stderr) || 'index-pack failed');
    }
    const walked = await runGit(['rev-list', '--objects', update.next, '--not', update.old], { cwd: dir, env });
    if (walked.code !== 0) throw new PushRefused('missing necessary objects', [firstLine(walked.stderr)]);
    const ancestry = await runGit(['merge-base', '--is-ancestor', update.old, update.next], { cwd: dir, env });
    if (ancestry.code !== 0) {
      throw new PushRefused('non-fast-forward', ['The memory has commits you do not have: pull, then push again.']);
    }
    const shas = walked.stdout
      .toString('utf8')
      .split('\n')
      .map((line) => line.slice(0, 40))
      .filter((sha) => sha.length === 40);
    const incoming = await readObjects(dir, env, shas);
    const commit = incoming.get(update.next) ?? (await this.loadObjects(agentId, [update.next])).get(update.next);
    if (commit?.kind !== 'commit') throw new PushRefused(`${update.next} is not a commit`);
    const pushedTree = await this.flatten(agentId, parseCommit(commit.data).tree, incoming);
    const contents = await this.blockFileContents(agentId, pushedTree, incoming);

    await this.stores.transaction(async (tx) => {
      // The agent's memory lock first: a block write through the API or a tool on another process either committed
      // before (and the check below refuses the push) or waits, and then lands as a change after the push.
      await tx.gitMemory.lockAgents([agentId]);
      // The head row next: concurrent pushes and syncs of this agent queue behind it or lose.
      if (!(await tx.gitMemory.moveHead(agentId, update.old, update.next, nowIso()))) {
        throw new PushRefused('fetch first', ['The memory changed while you were pushing: pull, then push again.']);
      }
      const attached = await tx.blocks.listForAgent(agentId);
      const fetched = await this.treeOf(agentId, update.old, tx);
      if (
        buildTree(overlayBlocks(await this.flatten(agentId, fetched, new Map(), tx), attached).files).sha !== fetched
      ) {
        throw new PushRefused('fetch first', ['A block changed through the API since you fetched: pull, then push.']);
      }
      await tx.gitMemory.putObjects(agentId, [...incoming.values()]);
      await this.applyToBlocks(tx, agentId, attached, contents);
    });
  }

  /** The text of every pushed block file (`system/**.md`), by label. */
  private async blockFileContents(
    agentId: string,
    tree: FlatTree,
    incoming: Map<string, GitObject>,
  ): Promise<Map<string, { path: string; text: string }>> {
    const wanted = [...tree].flatMap(([path, entry]) => {
      const label = labelOfPath(path);
      return label !== undefined && entry.mode.startsWith('100') ? [{ path, label, sha: entry.sha }] : [];
    });
    const stored = await this.loadObjects(
      agentId,
      wanted.filter((w) => !incoming.has(w.sha)).map((w) => w.sha),
    );
    const files = new Map<string, { path: string; text: string }>();
    for (const w of wanted) {
      const blob = incoming.get(w.sha) ?? stored.get(w.sha);
      if (!blob) throw new PushRefused('missing necessary objects', [`${w.path}: blob ${w.sha} is missing`]);
      files.set(w.label, { path: w.path, text: blob.data.toString('utf8') });
    }
    return files;
  }

  /** Checks every pushed block file first, then writes: a refused push changes no block. */
  private async applyToBlocks(
    tx: Stores,
    agentId: string,
    attached: BlockRecord[],
    files: Map<string, { path: string; text: string }>,
  ): Promise<void> {
    const problems: string[] = [];
    const writes: (() => Promise<unknown>)[] = [];
    let attachment = false;
    const origin = { actor: { kind: 'api' as const, name: 'git' } };
    for (const block of attached) {
      const file = files.get(block.label);
      const path = blockPath(block.label);
      if (!file) {
        if (block.read_only) problems.push(`${path}: block '${block.label}' is read-only and cannot be removed`);
        else {
          attachment = true;
          writes.push(() => tx.blocks.detach(agentId, block.id));
        }
        continue;
      }
      const parsed = parseBlockFile(file.text);
      if (typeof parsed === 'string') {
        problems.push(`${path}: ${parsed}`);
        continue;
      }
      const description =
        parsed.description !== undefined && parsed.description !== shownDescription(block)
          ? parsed.description
          : undefined;
      const limit = parsed.limit !== undefined && parsed.limit !== block.char_limit ? parsed.limit : undefined;
      const value = parsed.value !== block.value ? parsed.value : undefined;
      if (value === undefined && description === undefined && limit === undefined) continue;
      if (block.read_only) {
        problems.push(`${path}: block '${block.label}' is read-only and cannot be modified`);
        continue;
      }
      if (parsed.readOnly === true) {
        problems.push(`${path}: read_only can only be set through the API`);
        continue;
      }
      const finalValue = value ?? block.value;
      const finalLimit = limit ?? block.char_limit;
      if (finalValue.length > finalLimit) {
        problems.push(
          `${path}: Value length (${finalValue.length} characters) exceeds block limit (${finalLimit} characters)`,
        );
        continue;
      }
      writes.push(() =>
        this.blocks.applyUpdate(
          tx,
          block,
          {
            ...(value !== undefined ? { value } : {}),
            ...(limit !== undefined ? { limit } : {}),
            ...(description !== undefined ? { description } : {}),
          },
          origin,
        ),
      );
    }
    const known = new Set(attached.map((b) => b.label));
    for (const [label, file] of files) {
      if (known.has(label)) continue;
      const parsed = parseBlockFile(file.text);
      if (typeof parsed === 'string') {
        problems.push(`${file.path}: ${parsed}`);
        continue;
      }
      if (parsed.readOnly === true) {
        problems.push(`${file.path}: read_only can only be set through the API`);
        continue;
      }
      const limit = parsed.limit ?? DEFAULT_BLOCK_LIMIT;
      if (parsed.value.length > limit) {
        problems.push(
          `${file.path}: Value length (${parsed.value.length} characters) exceeds block limit (${limit} characters)`,
        );
        continue;
      }
      attachment = true;
      writes.push(async () => {
        const created = await this.blocks.insert(tx, {
          label,
          value: parsed.value,
          limit,
          ...(parsed.description !== undefined ? { description: parsed.description } : {}),
        });
        await tx.blocks.attach(agentId, created.id);
      });
    }
    if (problems.length > 0) {
      const [first] = problems;
      throw new PushRefused(problems.length === 1 ? first! : `${first} (and ${problems.length - 1} more)`, problems);
    }
    for (const write of writes) await write();
    if (attachment) await this.events.blocksChanged(tx, [agentId]);
  }

  // ---- blocks to commits -------------------------------------------------------------------------------------

  /** Brings the repository up to the blocks and this process's copy up to the database. */
  private async prepare(agentId: string): Promise<{ dir: string; head: string }> {
    if (!(await this.stores.agents.findById(agentId))) throw missing('Agent', agentId);
    const head = await this.syncFromBlocks(agentId);
    return { dir: await this.cache.refresh(agentId, this.stores.gitMemory, head), head };
  }

  /** A commit on top of the head when the blocks differ from it; the head itself when they do not. */
  private async syncFromBlocks(agentId: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const head = await this.stores.gitMemory.head(agentId);
      const attached = await this.stores.blocks.listForAgent(agentId);
      const base = head ? await this.flatten(agentId, await this.treeOf(agentId, head)) : new Map();
      const desired = overlayBlocks(base, attached);
      const tree = buildTree(desired.files);
      if (head && tree.sha === (await this.treeOf(agentId, head))) return head;
      const commit = gitObject(
        'commit',
        encodeCommit({
          tree: tree.sha,
          parents: head ? [head] : [],
          author: { ...SERVER_AUTHOR, time: Math.floor(Date.now() / 1000) },
          message: head ? syncMessage(base, desired.files) : 'Memory blocks as Cairn holds them',
        }),
      );
      const moved = await this.stores.transaction(async (tx) => {
        if (!(await tx.gitMemory.moveHead(agentId, head, commit.sha, nowIso()))) return false;
        await tx.gitMemory.putObjects(agentId, [...desired.blobs, ...tree.objects, commit]);
        return true;
      });
      if (moved) return commit.sha;
      // Another process or push moved the head first; build again on top of what it left.
      if (attempt >= SYNC_ATTEMPTS) throw new Error(`memory repository of ${agentId} kept moving`);
    }
  }

  private async treeOf(agentId: string, commitSha: string, db: Stores = this.stores): Promise<string> {
    const commit = (await this.loadObjects(agentId, [commitSha], db)).get(commitSha);
    if (commit?.kind !== 'commit') throw new Error(`memory head ${commitSha} of ${agentId} is not a stored commit`);
    return parseCommit(commit.data).tree;
  }

  /** Every file of a tree by path, reading subtrees from `known` first and the database after. */
  private async flatten(
    agentId: string,
    treeSha: string,
    known = new Map<string, GitObject>(),
    db: Stores = this.stores,
  ): Promise<FlatTree> {
    const files: FlatTree = new Map();
    let level: { prefix: string; sha: string }[] = [{ prefix: '', sha: treeSha }];
    while (level.length > 0) {
      const stored = await this.loadObjects(
        agentId,
        level.filter((t) => !known.has(t.sha)).map((t) => t.sha),
        db,
      );
      const next: { prefix: string; sha: string }[] = [];
      for (const { prefix, sha } of level) {
        const tree = known.get(sha) ?? stored.get(sha);
        if (tree?.kind !== 'tree') throw new PushRefused('missing necessary objects', [`tree ${sha} is missing`]);
        for (const entry of parseTree(tree.data)) {
          const path = `${prefix}${entry.name}`;
          if (entry.mode === TREE_MODE) next.push({ prefix: `${path}/`, sha: entry.sha });
          else files.set(path, { mode: entry.mode, sha: entry.sha });
        }
      }
      level = next;
    }
    return files;
  }

  /** `db` is the transaction when one is open: SQLite's one connection would wait for it forever. */
  private async loadObjects(
    agentId: string,
    shas: string[],
    db: Stores = this.stores,
  ): Promise<Map<string, GitObject>> {
    const rows = await db.gitMemory.objects(agentId, [...new Set(shas)]);
    return new Map(rows.map((r) => [r.sha, { sha: r.sha, kind: r.kind as GitObjectKind, data: Buffer.from(r.data) }]));
  }

  /** One push or sync of an agent at a time in this process; other processes are kept out by the head's row. */
  private async serialized<T>(agentId: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(agentId) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => {});
    this.locks.set(agentId, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(agentId) === settled) this.locks.delete(agentId);
    }
  }
}

class UnpackFailed extends Error {}

interface RefUpdate {
  old: string;
  next: string;
  ref: string;
}

function parseCommands(lines: Buffer[]): { updates: RefUpdate[]; capabilities: Set<string> } {
  const updates: RefUpdate[] = [];
  let capabilities = new Set<string>();
  lines.forEach((line, i) => {
    let text = line.toString('utf8');
    if (i === 0) {
      const nul = text.indexOf('\0');
      if (nul >= 0) {
        capabilities = new Set(
          text
            .slice(nul + 1)
            .trim()
            .split(/\s+/),
        );
        text = text.slice(0, nul);
      }
    }
    const match = /^([0-9a-f]{40}) ([0-9a-f]{40}) (\S+)\n?$/.exec(text);
    if (!match) throw new CairnError(400, 'malformed receive-pack command');
    updates.push({ old: match[1]!, next: match[2]!, ref: match[3]! });
  });
  return { updates, capabilities };
}

/** What is wrong with an update before any object is looked at, if anything. */
function refuseUpdate(update: RefUpdate, head: string, all: RefUpdate[]): string | undefined {
  if (update.ref !== MEMORY_BRANCH) return `only ${MEMORY_BRANCH} is kept`;
  if (update.next === ZERO_SHA) return 'the memory branch cannot be deleted';
  if (all.filter((u) => u.ref === update.ref).length > 1) return 'updated twice in one push';
  if (update.old !== head) return 'fetch first';
  return undefined;
}

/** `git cat-file --batch`: `<sha> <kind> <size>\n<content>\n` for each object asked for. */
async function readObjects(dir: string, env: Record<string, string>, shas: string[]): Promise<Map<string, GitObject>> {
  const objects = new Map<string, GitObject>();
  if (shas.length === 0) return objects;
  const batch = await runGit(['cat-file', '--batch'], { cwd: dir, env, input: Buffer.from(`${shas.join('\n')}\n`) });
  if (batch.code !== 0) throw new PushRefused('missing necessary objects', [firstLine(batch.stderr)]);
  const out = batch.stdout;
  let at = 0;
  while (at < out.length) {
    const newline = out.indexOf(0x0a, at);
    const [sha, kind, size] = out.toString('utf8', at, newline).split(' ');
    if (!sha || !kind || size === undefined || kind === 'missing') {
      throw new PushRefused('missing necessary objects', [`${sha ?? ''} is missing`]);
    }
    const data = Buffer.from(out.subarray(newline + 1, newline + 1 + Number(size)));
    objects.set(sha, { sha, kind: kind as GitObjectKind, data });
    at = newline + 1 + Number(size) + 1;
  }
  return objects;
}

/** The tree with its block files replaced by the blocks as they are now; every other file is kept. */
function overlayBlocks(base: FlatTree, attached: BlockRecord[]): { files: FlatTree; blobs: GitObject[] } {
  const files: FlatTree = new Map([...base].filter(([path]) => labelOfPath(path) === undefined));
  const blobs: GitObject[] = [];
  for (const block of attached) {
    if (block.label.split('/').some((segment) => UNSAFE_SEGMENT.test(segment))) continue;
    const blob = gitObject('blob', Buffer.from(renderBlockFile(block)));
    blobs.push(blob);
    files.set(blockPath(block.label), { mode: FILE_MODE, sha: blob.sha });
  }
  return { files, blobs };
}

/** The tree objects of a flat file map, built bottom-up; the root's is the last. */
function buildTree(files: FlatTree): { sha: string; objects: GitObject[] } {
  const objects: GitObject[] = [];
  const build = (entries: [string, { mode: string; sha: string }][]): string => {
    const direct: TreeEntry[] = [];
    const folders = new Map<string, [string, { mode: string; sha: string }][]>();
    for (const [path, entry] of entries) {
      const slash = path.indexOf('/');
      if (slash < 0) direct.push({ mode: entry.mode, name: path, sha: entry.sha });
      else {
        const name = path.slice(0, slash);
        folders.set(name, [...(folders.get(name) ?? []), [path.slice(slash + 1), entry]]);
      }
    }
    for (const [name, children] of folders) direct.push({ mode: TREE_MODE, name, sha: build(children) });
    const tree = gitObject('tree', encodeTree(direct));
    objects.push(tree);
    return tree.sha;
  };
  return { sha: build([...files]), objects };
}

function syncMessage(before: FlatTree, after: FlatTree): string {
  const labels = new Set<string>();
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    const label = labelOfPath(path);
    if (label !== undefined && before.get(path)?.sha !== after.get(path)?.sha) labels.add(label);
  }
  return labels.size > 0 ? `Update memory blocks: ${[...labels].sort().join(', ')}` : 'Update memory blocks';
}

/** Only a well-formed `Git-Protocol` header reaches git's environment. */
function protocolEnv(header: string | undefined): Record<string, string> {
  return header && /^[A-Za-z0-9=:._-]+$/.test(header) ? { GIT_PROTOCOL: header } : {};
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
