import type { Logger } from 'pino';
import { CairnError, badRequest, conflict, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import { startHeartbeatSweep, type HeartbeatSweep, type StaleTiming } from '../lib/heartbeat-sweep.js';
import type { MemoryEventBus } from '../domain/memory-events.js';
import { missing } from '../domain/errors.js';
import { embeddingConfigFor, requestedHandle } from '../domain/models.js';
import {
  FileRangeError,
  MAX_UPLOAD_BYTES,
  agentFileLimits,
  fileTypeOf,
  numberedView,
  strategyOf,
  type AttachedFile,
  type FileOpenRequest,
  type FilesPort,
  type OpenFilesResult,
} from '../domain/files.js';
import type { Passage } from '../schemas/archival.js';
import type {
  AgentFile,
  DuplicateHandling,
  FileMetadata,
  Folder,
  FolderCreate,
  FolderUpdate,
} from '../schemas/folder.js';
import type { AgentRecord } from '../store/agent.store.js';
import type { AgentFileRecord, FolderFileSummary, FolderRecord } from '../store/folder.store.js';
import type { Stores } from '../store/index.js';
import { parseJson, toJsonText } from '../store/json.js';
import type { PageSpec } from '../store/paging.js';
import type { ArchivalService } from './archival.service.js';
import { FileParseError, type FileParser } from './file-parser.js';

/** The tools an agent gets with its first folder and loses with its last (`letta_files_core`). */
export const FILE_TOOL_NAMES = ['open_files', 'grep_files', 'semantic_search_files'];

export interface Upload {
  fileName: string;
  contentType: string | undefined;
  bytes: Uint8Array;
  duplicateHandling: DuplicateHandling;
  name?: string | undefined;
}

const folderMissing = (id: string) => notFound(`Folder with id '${id}' not found`);
const fileMissing = (id: string) => notFound(`File with id '${id}' not found`);

/**
 * Folders (Letta's sources) and their files. A folder owns an archive: its files' chunks are passages there, so the
 * archival service embeds and searches them. Uploads answer at once (`pending`); parsing runs in a worker thread and
 * its result (text, passages, agents' views, prompts) commits in one transaction, or the file is marked `error`.
 */
export class FolderService implements FilesPort {
  private readonly background = new Set<Promise<void>>();
  /** Files this process accepted and has not finished parsing: it heartbeats them so no other process fails them. */
  private readonly held = new Set<string>();
  private sweeper: HeartbeatSweep | undefined;

  constructor(
    private readonly stores: Stores,
    private readonly archival: ArchivalService,
    private readonly events: MemoryEventBus,
    private readonly parser: FileParser,
    private readonly defaultEmbedding: string,
    private readonly logger: Logger,
  ) {}

  // ---- presentation ---------------------------------------------------------------------------------------

  /** Also what `include=agent.sources` on an agent shows. */
  async presentFolders(rows: FolderRecord[], tx: Stores = this.stores): Promise<Folder[]> {
    const out: Folder[] = [];
    for (const row of rows) {
      const archive = await tx.archival.findArchive(row.archive_id);
      out.push({
        id: row.id,
        name: row.name,
        description: row.description,
        instructions: row.instructions,
        metadata: parseJson(row.metadata, null),
        embedding_config: parseJson(archive?.embedding_config, embeddingConfigFor(this.defaultEmbedding)),
        created_at: row.created_at,
        updated_at: row.updated_at,
        created_by_id: null,
        last_updated_by_id: null,
      });
    }
    return out;
  }

  async presentFiles(rows: FolderFileSummary[], tx: Stores = this.stores): Promise<FileMetadata[]> {
    const embedded = await tx.folders.embeddedCounts(rows.filter((r) => r.total_chunks).map((r) => r.id));
    const out: FileMetadata[] = [];
    for (const row of rows) {
      const chunksEmbedded = embedded.get(row.id) ?? 0;
      let status = row.processing_status;
      // The embedding queue does not know about files: a file is done when its last passage has its vector.
      if (status === 'embedding' && chunksEmbedded >= (row.total_chunks ?? 0)) {
        status = 'completed';
        await tx.folders.updateFile(row.id, { processing_status: status, updated_at: nowIso() });
      }
      out.push({
        id: row.id,
        source_id: row.folder_id,
        file_name: row.file_name,
        original_file_name: row.original_file_name,
        file_path: null,
        file_type: row.file_type,
        file_size: row.file_size,
        file_creation_date: null,
        file_last_modified_date: null,
        processing_status: status,
        error_message: row.error_message,
        total_chunks: row.total_chunks,
        chunks_embedded: row.total_chunks === null ? null : chunksEmbedded,
        content: row.content ?? null,
        created_at: row.created_at,
        updated_at: row.updated_at,
      });
    }
    return out;
  }

  // ---- folders --------------------------------------------------------------------------------------------

  async requireFolder(folderId: string, tx: Stores = this.stores): Promise<FolderRecord> {
    const row = await tx.folders.findFolder(folderId);
    if (!row) throw folderMissing(folderId);
    return row;
  }

  async retrieve(folderId: string): Promise<Folder> {
    return (await this.presentFolders([await this.requireFolder(folderId)]))[0]!;
  }

  /** `tx`: an agent-file import creates its folders inside its own transaction. */
  async create(input: FolderCreate, tx: Stores = this.stores): Promise<Folder> {
    const handle = requestedHandle(input.embedding, input.embedding_config) ?? this.defaultEmbedding;
    const config = {
      ...embeddingConfigFor(handle),
      ...(input.embedding_config ?? {}),
      ...(input.embedding_chunk_size ? { embedding_chunk_size: input.embedding_chunk_size } : {}),
      handle,
    };
    return tx.transaction(async (tx) => {
      if (await tx.folders.findFolderByName(input.name))
        throw conflict(`A folder named '${input.name}' already exists`);
      const archive = await this.archival.insertArchiveRow(tx, {
        name: `${input.name} (folder)`,
        embedding: handle,
        embeddingConfig: config,
      });
      const now = nowIso();
      const row = {
        id: newId('source'),
        name: input.name,
        description: input.description ?? null,
        instructions: input.instructions ?? null,
        metadata: toJsonText(input.metadata ?? null),
        archive_id: archive.id,
        created_at: now,
        updated_at: now,
      };
      await tx.folders.insertFolder(row);
      return (await this.presentFolders([{ seq: 0, ...row }], tx))[0]!;
    });
  }

  async update(folderId: string, patch: FolderUpdate): Promise<Folder> {
    return this.stores.transaction(async (tx) => {
      const folder = await this.requireFolder(folderId, tx);
      if (patch.name != null && patch.name !== folder.name && (await tx.folders.findFolderByName(patch.name)))
        throw conflict(`A folder named '${patch.name}' already exists`);
      await tx.folders.updateFolder(folderId, {
        ...(patch.name != null ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.instructions !== undefined ? { instructions: patch.instructions } : {}),
        ...(patch.metadata !== undefined ? { metadata: toJsonText(patch.metadata) } : {}),
        updated_at: nowIso(),
      });
      await this.events.blocksChanged(tx, await tx.folders.agentIdsOf(folderId));
      return (await this.presentFolders([await this.requireFolder(folderId, tx)], tx))[0]!;
    });
  }

  /** The folder, its files, their passages (with the folder's archive) and every agent's view of them. */
  async delete(folderId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const folder = await this.requireFolder(folderId, tx);
      const agentIds = await tx.folders.agentIdsOf(folderId);
      for (const agentId of agentIds) await this.detachIn(tx, agentId, folderId);
      await tx.folders.deleteFolder(folderId);
      await tx.archival.deleteArchive(folder.archive_id);
    });
  }

  async list(filter: { name?: string | undefined; agentId?: string | undefined }, page: PageSpec): Promise<Folder[]> {
    return this.presentFolders(await this.stores.folders.listFolders(filter, page));
  }

  count(): Promise<number> {
    return this.stores.folders.countFolders();
  }

  async idByName(name: string): Promise<string> {
    const row = await this.stores.folders.findFolderByName(name);
    if (!row) throw notFound(`Folder with name '${name}' not found`);
    return row.id;
  }

  async metadata(detailed: boolean) {
    const [stats, folders] = await Promise.all([
      this.stores.folders.stats(),
      this.stores.folders.listFolders({}, { limit: 10_000, order: 'asc' }),
    ]);
    const byFolder = new Map(stats.map((s) => [s.folder_id, s]));
    const sources = [];
    for (const folder of folders) {
      const s = byFolder.get(folder.id);
      const files = detailed
        ? await this.stores.folders.listFiles(folder.id, false, { limit: 10_000, order: 'asc' })
        : [];
      sources.push({
        source_id: folder.id,
        source_name: folder.name,
        file_count: s?.files ?? 0,
        total_size: s?.size ?? 0,
        files: files.map((f) => ({ file_id: f.id, file_name: f.file_name, file_size: f.file_size })),
      });
    }
    return {
      total_sources: folders.length,
      total_files: stats.reduce((n, s) => n + s.files, 0),
      total_size: stats.reduce((n, s) => n + s.size, 0),
      sources,
    };
  }

  async agentIds(folderId: string, page: PageSpec): Promise<string[]> {
    await this.requireFolder(folderId);
    return this.stores.folders.agentIdsOf(folderId, page);
  }

  /** The folder's passages, with the file each came from. */
  async passages(folderId: string, page: PageSpec): Promise<Passage[]> {
    const folder = await this.requireFolder(folderId);
    const rows = await this.stores.archival.listPassages([folder.archive_id], undefined, page);
    const presented = await this.archival.present(rows);
    const fileOf = await this.stores.folders.fileIdsOfPassages(rows.map((r) => r.id));
    const files = new Map((await this.stores.folders.filesByIds([...new Set(fileOf.values())])).map((f) => [f.id, f]));
    return presented.map((p) => {
      const file = files.get(fileOf.get(p.id) ?? '');
      return { ...p, file_id: file?.id ?? null, file_name: file?.file_name ?? null, source_id: folderId };
    });
  }

  // ---- files ----------------------------------------------------------------------------------------------

  async listFiles(folderId: string, withContent: boolean, page: PageSpec): Promise<FileMetadata[]> {
    await this.requireFolder(folderId);
    return this.presentFiles(await this.stores.folders.listFiles(folderId, withContent, page));
  }

  async retrieveFile(folderId: string, fileId: string, withContent: boolean): Promise<FileMetadata> {
    await this.requireFolder(folderId);
    const row = await this.stores.folders.findFile(fileId, withContent);
    if (!row || row.folder_id !== folderId) throw fileMissing(fileId);
    return (await this.presentFiles([row]))[0]!;
  }

  async deleteFile(folderId: string, fileId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.requireFolder(folderId, tx);
      const row = await tx.folders.findFile(fileId, false);
      if (!row || row.folder_id !== folderId) throw fileMissing(fileId);
      const agentIds = await tx.folders.agentsWithFile(fileId);
      await tx.folders.deleteFile(fileId);
      await this.events.blocksChanged(tx, agentIds);
    });
  }

  /**
   * Letta's upload: checks size and type, applies `duplicate_handling` to the name, stores the file as `pending` and
   * processes it in the background. `skipped` is set when an existing file was returned instead (`skip`).
   */
  async upload(folderId: string, upload: Upload): Promise<{ file: FileMetadata; skipped: boolean }> {
    if (upload.bytes.byteLength > MAX_UPLOAD_BYTES)
      throw new CairnError(413, `File '${upload.fileName}' is larger than the 50 MB upload limit`);
    const type = fileTypeOf(upload.fileName, upload.contentType);
    if (!type)
      throw new CairnError(
        415,
        `Unsupported file type: ${upload.contentType || 'unknown'} (filename: ${upload.fileName}). Supported types: PDF, text files (.txt, .md), JSON, and code files (.py, .js, .java, etc.).`,
      );
    const originalName = upload.name ?? sanitizeFileName(upload.fileName);
    const result = await this.stores.transaction(async (tx) => {
      const folder = await this.requireFolder(folderId, tx);
      const existing = await tx.folders.filesNamed(folderId, originalName);
      let fileName: string | undefined;
      if (existing.length > 0) {
        if (upload.duplicateHandling === 'error')
          throw badRequest(`File '${originalName}' already exists in folder '${folder.name}'`);
        if (upload.duplicateHandling === 'skip')
          return { file: (await this.presentFiles([existing[0]!], tx))[0]!, skipped: true };
        if (upload.duplicateHandling === 'replace') {
          const agentIds = new Set<string>();
          for (const old of existing) {
            for (const id of await tx.folders.agentsWithFile(old.id)) agentIds.add(id);
            await tx.folders.deleteFile(old.id);
          }
          await this.events.blocksChanged(tx, [...agentIds]);
          fileName = `${folder.name}/${originalName}`;
        }
      }
      fileName ??= uniqueName(folder.name, originalName, existing.length);
      const now = nowIso();
      const row = {
        id: newId('file'),
        folder_id: folderId,
        file_name: fileName,
        original_file_name: originalName,
        file_type: type.mime,
        file_size: upload.bytes.byteLength,
        processing_status: 'pending' as const,
        error_message: null,
        total_chunks: null,
        content: null,
        created_at: now,
        updated_at: now,
        heartbeat_at: now,
      };
      await tx.folders.insertFile(row);
      return { file: (await this.presentFiles([{ seq: 0, ...row }], tx))[0]!, skipped: false };
    });
    if (!result.skipped) this.track(this.process(result.file.id, upload.bytes, type.kind));
    return result;
  }

  private track(work: Promise<void>): void {
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  /** Resolves when every upload accepted so far is parsed (tests); embedding continues in the indexer. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * An agent file's file: its text is known, so it is stored with it and only chunked and embedded in the background,
   * once the import commits. No agent's view changes: the import restores the views the file recorded.
   */
  async importFile(
    tx: Stores,
    file: { folderId: string; fileName: string; originalFileName: string; fileType: string; content: string | null },
  ): Promise<string> {
    const now = nowIso();
    const id = newId('file');
    const content = file.content;
    await tx.folders.insertFile({
      id,
      folder_id: file.folderId,
      file_name: file.fileName,
      original_file_name: file.originalFileName,
      file_type: file.fileType,
      file_size: content === null ? 0 : Buffer.byteLength(content),
      processing_status: content === null ? 'error' : 'pending',
      error_message: content === null ? 'The agent file carried no content for this file' : null,
      total_chunks: null,
      content,
      created_at: now,
      updated_at: now,
      heartbeat_at: now,
    });
    if (content !== null)
      tx.afterCommit(() => this.track(this.process(id, Buffer.from(content), 'text', { openForAgents: false })));
    return id;
  }

  /**
   * Attaches an imported agent's folders with the file views the agent file recorded (open or closed), keeping at
   * most the agent's `max_files_open` open (the most recently accessed), and gives it the file tools.
   */
  async restoreAttachments(
    tx: Stores,
    agentId: string,
    folderIds: string[],
    links: Omit<AgentFileRecord, 'seq' | 'id' | 'agent_id' | 'created_at'>[],
  ): Promise<void> {
    const agent = await this.requireAgent(agentId, tx);
    const now = nowIso();
    for (const folderId of folderIds) await tx.folders.attach(agentId, folderId, now);
    const { maxFilesOpen } = this.limitsOf(agent);
    const keepOpen = new Set(
      links
        .filter((l) => l.is_open === 1)
        .sort((a, b) => b.last_accessed_at.localeCompare(a.last_accessed_at))
        .slice(0, maxFilesOpen),
    );
    await tx.folders.insertAgentFiles(
      links.map((link) => {
        const open = keepOpen.has(link);
        return {
          ...link,
          id: newId('file_agent'),
          agent_id: agentId,
          is_open: open ? 1 : 0,
          visible_content: open ? link.visible_content : null,
          start_line: open ? link.start_line : null,
          end_line: open ? link.end_line : null,
          created_at: now,
        };
      }),
    );
    if (folderIds.length > 0) {
      const tools = await tx.tools.findManyByNames(FILE_TOOL_NAMES);
      await tx.tools.attach(
        agentId,
        tools.map((t) => t.id),
      );
    }
    await this.events.blocksChanged(tx, [agentId]);
  }

  private async process(
    fileId: string,
    bytes: Uint8Array,
    kind: 'text' | 'pdf' | 'html',
    { openForAgents } = { openForAgents: true },
  ): Promise<void> {
    // Before the first await, so that no heartbeat passes over a file this process holds.
    this.held.add(fileId);
    try {
      const file = await this.stores.folders.findFile(fileId, false);
      if (!file) return;
      await this.stores.folders.updateFile(fileId, { processing_status: 'parsing', updated_at: nowIso() });
      const parsed = await this.parser.parse(bytes, kind, file.file_name, strategyOf(file.file_name, file.file_type));
      await this.stores.transaction(async (tx) => {
        const current = await tx.folders.findFile(fileId, false);
        // Deleted (or replaced) while it was being parsed.
        if (!current) return;
        const folder = await this.requireFolder(current.folder_id, tx);
        const passages = await this.archival.insertIntoArchive(
          folder.archive_id,
          parsed.chunks.map((text) => ({ text })),
          tx,
        );
        await tx.folders.linkPassages(
          fileId,
          passages.map((p) => p.id),
        );
        await tx.folders.updateFile(fileId, {
          content: parsed.text,
          total_chunks: passages.length,
          processing_status: 'embedding',
          updated_at: nowIso(),
        });
        const agentIds = openForAgents ? await tx.folders.agentIdsOf(folder.id) : [];
        for (const agentId of agentIds) {
          await this.openIn(tx, await this.requireAgent(agentId, tx), {
            fileId,
            folderId: folder.id,
            fileName: current.file_name,
            view: parsed.view,
            startLine: null,
            endLine: null,
          });
        }
        await this.events.blocksChanged(tx, agentIds);
      });
    } catch (error) {
      const reason = error instanceof FileParseError ? error.message : String(error);
      if (!(error instanceof FileParseError)) this.logger.error({ err: error, fileId }, 'file processing failed');
      await this.stores.folders
        .updateFile(fileId, { processing_status: 'error', error_message: reason, updated_at: nowIso() })
        .catch((e: unknown) => this.logger.error({ err: e, fileId }, 'could not mark the file failed'));
    } finally {
      this.held.delete(fileId);
    }
  }

  /**
   * Uploads are held in memory until parsed, so a file whose process stopped can never finish. This process
   * heartbeats the files it holds, and fails (to be uploaded again) those whose process went silent: at startup of
   * the only process (SQLite) every file still in progress, on PostgreSQL those stale for the timing's window.
   */
  async startSweeper(soleProcess: boolean, timing: StaleTiming): Promise<void> {
    this.sweeper = startHeartbeatSweep({
      timing,
      soleProcess,
      heartbeat: (now) => this.stores.folders.heartbeatFiles([...this.held], now),
      sweep: (before, now) => this.failFilesSilentSince(before, now),
      onError: (error) => this.logger.error({ err: error }, 'file sweep failed'),
    });
    await this.sweeper.first;
  }

  /** Fails the files in progress whose process has not heartbeated them since `before`. */
  async failFilesSilentSince(before: string, now: string): Promise<void> {
    const failed = await this.stores.folders.failStaleFiles(
      before,
      'The server stopped before the file was processed; upload it again',
      now,
    );
    if (failed.length > 0) this.logger.warn({ files: failed }, 'failed files left mid-parse by a stopped process');
  }

  async close(): Promise<void> {
    this.sweeper?.stop();
    await this.idle();
    await this.parser.close();
  }

  // ---- agents ---------------------------------------------------------------------------------------------

  private async requireAgent(agentId: string, tx: Stores): Promise<AgentRecord> {
    const row = await tx.agents.findById(agentId);
    if (!row) throw missing('Agent', agentId);
    return row;
  }

  private limitsOf(agent: AgentRecord) {
    return agentFileLimits(agent);
  }

  /** Attaches the folder with its processed files (opened, most recent first, up to the limit) and the file tools. */
  async attach(agentId: string, folderId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      const agent = await this.requireAgent(agentId, tx);
      const folder = await this.requireFolder(folderId, tx);
      if (!(await tx.folders.attach(agentId, folderId, nowIso()))) return;
      const files = await tx.folders.listFiles(folderId, true, { limit: 100_000, order: 'asc' });
      for (const file of files) {
        if (file.content == null) continue;
        await this.openIn(tx, agent, {
          fileId: file.id,
          folderId: folder.id,
          fileName: file.file_name,
          view: numberedView(file.file_name, file.content, strategyOf(file.file_name, file.file_type)).join('\n'),
          startLine: null,
          endLine: null,
        });
      }
      const tools = await tx.tools.findManyByNames(FILE_TOOL_NAMES);
      await tx.tools.attach(
        agentId,
        tools.map((t) => t.id),
      );
      await this.events.blocksChanged(tx, [agentId]);
    });
  }

  async detach(agentId: string, folderId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.requireAgent(agentId, tx);
      await this.requireFolder(folderId, tx);
      await this.detachIn(tx, agentId, folderId);
    });
  }

  private async detachIn(tx: Stores, agentId: string, folderId: string): Promise<void> {
    await tx.folders.detach(agentId, folderId);
    if ((await tx.folders.foldersOf(agentId)).length === 0) {
      for (const tool of await tx.tools.findManyByNames(FILE_TOOL_NAMES)) await tx.tools.detach(agentId, tool.id);
    }
    await this.events.blocksChanged(tx, [agentId]);
  }

  async agentFolders(agentId: string, page: PageSpec): Promise<Folder[]> {
    await this.requireAgent(agentId, this.stores);
    return this.list({ agentId }, page);
  }

  async agentFiles(
    agentId: string,
    query: { isOpen?: boolean | undefined; page: PageSpec },
  ): Promise<{ files: AgentFile[]; next_cursor: string | null; has_more: boolean }> {
    const agent = await this.requireAgent(agentId, this.stores);
    const { charLimit } = this.limitsOf(agent);
    const page = { ...query.page, limit: query.page.limit + 1 };
    const rows = await this.stores.folders.listAgentFiles(agentId, query.isOpen, page);
    const hasMore = rows.length > query.page.limit;
    const shown = rows.slice(0, query.page.limit);
    const folders = new Map((await this.stores.folders.foldersOf(agentId)).map((f) => [f.id, f.name]));
    return {
      files: shown.map((r) => toAgentFile(r, folders.get(r.folder_id) ?? '', charLimit)),
      next_cursor: hasMore ? (shown.at(-1)?.id ?? null) : null,
      has_more: hasMore,
    };
  }

  /** `PATCH /agents/{id}/files/{file_id}/open`: the whole file, closing the least recently used beyond the limit. */
  async openFile(agentId: string, fileId: string): Promise<string[]> {
    return this.stores.transaction(async (tx) => {
      const agent = await this.requireAgent(agentId, tx);
      const link = await tx.folders.findAgentFile(agentId, fileId);
      const file = link ? await tx.folders.findFile(fileId, true) : undefined;
      if (!link || !file) throw notFound(`File with id '${fileId}' is not attached to agent ${agentId}`);
      const closed = await this.openIn(tx, agent, {
        fileId,
        folderId: link.folder_id,
        fileName: link.file_name,
        view: numberedView(file.file_name, file.content ?? '', strategyOf(file.file_name, file.file_type)).join('\n'),
        startLine: null,
        endLine: null,
      });
      await this.events.blocksChanged(tx, [agentId]);
      return closed;
    });
  }

  async closeFile(agentId: string, fileId: string): Promise<void> {
    await this.stores.transaction(async (tx) => {
      await this.requireAgent(agentId, tx);
      const link = await tx.folders.findAgentFile(agentId, fileId);
      if (!link) throw notFound(`File with id '${fileId}' is not attached to agent ${agentId}`);
      await tx.folders.updateAgentFile(link.id, {
        is_open: 0,
        visible_content: null,
        start_line: null,
        end_line: null,
      });
      await this.events.blocksChanged(tx, [agentId]);
    });
  }

  /** Closes every open file except `keep` (by name); returns the names closed. */
  async closeAll(agentId: string, keep: string[] = [], tx?: Stores): Promise<string[]> {
    return (tx ?? this.stores).transaction(async (t) => {
      await this.requireAgent(agentId, t);
      const closed: string[] = [];
      for (const link of await t.folders.agentFiles(agentId)) {
        if (link.is_open !== 1 || keep.includes(link.file_name)) continue;
        await t.folders.updateAgentFile(link.id, {
          is_open: 0,
          visible_content: null,
          start_line: null,
          end_line: null,
        });
        closed.push(link.file_name);
      }
      if (closed.length > 0) await this.events.blocksChanged(t, [agentId]);
      return closed;
    });
  }

  /**
   * Opens (or re-views) one file for an agent, creating its link when new, and closes the least recently used open
   * files beyond the agent's limit. Returns the names closed.
   */
  private async openIn(
    tx: Stores,
    agent: AgentRecord,
    view: {
      fileId: string;
      folderId: string;
      fileName: string;
      view: string;
      startLine: number | null;
      endLine: number | null;
    },
  ): Promise<string[]> {
    const now = nowIso();
    const opened = {
      is_open: 1,
      visible_content: view.view,
      start_line: view.startLine,
      end_line: view.endLine,
      last_accessed_at: now,
    };
    const link = await tx.folders.findAgentFile(agent.id, view.fileId);
    if (link) await tx.folders.updateAgentFile(link.id, opened);
    else
      await tx.folders.insertAgentFiles([
        {
          id: newId('file_agent'),
          agent_id: agent.id,
          file_id: view.fileId,
          folder_id: view.folderId,
          file_name: view.fileName,
          created_at: now,
          ...opened,
        },
      ]);
    const { maxFilesOpen } = this.limitsOf(agent);
    const open = (await tx.folders.agentFiles(agent.id))
      .filter((f) => f.is_open === 1 && f.file_id !== view.fileId)
      .sort((a, b) => b.last_accessed_at.localeCompare(a.last_accessed_at) || b.seq - a.seq);
    const closed: string[] = [];
    for (const stale of open.slice(Math.max(0, maxFilesOpen - 1))) {
      await tx.folders.updateAgentFile(stale.id, {
        is_open: 0,
        visible_content: null,
        start_line: null,
        end_line: null,
      });
      closed.push(stale.file_name);
    }
    return closed;
  }

  // ---- the file tools (FilesPort) -------------------------------------------------------------------------

  async attachedFiles(agentId: string): Promise<AttachedFile[]> {
    const links = await this.stores.folders.agentFiles(agentId);
    const files = new Map(
      (await this.stores.folders.filesByIds(links.map((l) => l.file_id))).map((f) => [f.id, f] as const),
    );
    return links.flatMap((link) => {
      const file = files.get(link.file_id);
      return file
        ? [{ fileId: file.id, fileName: link.file_name, fileType: file.file_type, content: file.content ?? '' }]
        : [];
    });
  }

  async openFiles(agentId: string, requests: FileOpenRequest[], closeAllOthers: boolean): Promise<OpenFilesResult> {
    return this.stores.transaction(async (tx) => {
      const agent = await this.requireAgent(agentId, tx);
      const { maxFilesOpen } = this.limitsOf(agent);
      if (requests.length > maxFilesOpen)
        throw new FileRangeError(
          `Cannot open ${requests.length} files: exceeds configured maximum limit of ${maxFilesOpen} files`,
        );
      if (requests.length === 0) throw new FileRangeError('No file requests provided');
      const links = await tx.folders.agentFiles(agentId);
      const closedByRequest = closeAllOthers
        ? await this.closeAll(
            agentId,
            requests.map((r) => r.file_name),
            tx,
          )
        : [];
      const closedByLimit: string[] = [];
      const previous = new Map<string, [number | null, number | null]>();
      for (const request of requests) {
        const { offset, length } = request;
        if (offset != null && offset < 0)
          throw new FileRangeError(`Offset for file ${request.file_name} must be >= 0 (0-indexed), got ${offset}`);
        if (length != null && length < 1)
          throw new FileRangeError(`Length for file ${request.file_name} must be >= 1, got ${length}`);
        const start = offset ?? undefined;
        const end = start !== undefined && length != null ? start + length : undefined;
        const link = links.find((l) => l.file_name === request.file_name);
        if (!link)
          throw new FileRangeError(
            `${request.file_name} not attached - did you get the filename correct? Currently you have the following files attached: ${pyList(links.map((l) => l.file_name))}`,
          );
        const file = await tx.folders.findFile(link.file_id, true);
        const lines = numberedView(
          link.file_name,
          file?.content ?? '',
          strategyOf(link.file_name, file?.file_type ?? ''),
          start,
          end,
        );
        if (link.is_open === 1) previous.set(link.file_name, [link.start_line, link.end_line]);
        closedByLimit.push(
          ...(await this.openIn(tx, agent, {
            fileId: link.file_id,
            folderId: link.folder_id,
            fileName: link.file_name,
            view: lines.join('\n'),
            startLine: start !== undefined ? start + 1 : null,
            endLine: end ?? null,
          })),
        );
      }
      await this.events.blocksChanged(tx, [agentId]);
      return { closedByRequest, closedByLimit, previous };
    });
  }

  async markAccess(agentId: string, fileNames: string[]): Promise<void> {
    if (fileNames.length === 0) return;
    await this.stores.transaction(async (tx) => {
      const now = nowIso();
      for (const link of await tx.folders.agentFiles(agentId))
        if (fileNames.includes(link.file_name)) await tx.folders.updateAgentFile(link.id, { last_accessed_at: now });
    });
  }

  /** Passages of the agent's folders ranked by the archival search, with the names the agent knows the files by. */
  async searchPassages(agentId: string, query: string, limit: number): Promise<{ fileName: string; text: string }[]> {
    const agent = await this.requireAgent(agentId, this.stores);
    const folders = await this.stores.folders.foldersOf(agentId);
    const archives = [];
    for (const folder of folders) {
      const archive = await this.stores.archival.findArchive(folder.archive_id);
      if (archive) archives.push(archive);
    }
    // Folders may be embedded with different models; each is searched with its own, and the fused ranks merged.
    const hits = [];
    for (const [handle, group] of groupByHandle(archives))
      hits.push(...(await this.archival.rankIn(group, handle, agent.timezone, { query, topK: limit })));
    hits.sort((a, b) => b.score - a.score);
    const top = hits.slice(0, limit);
    const fileOf = await this.stores.folders.fileIdsOfPassages(top.map((h) => h.passage.id));
    const names = new Map(
      (await this.stores.folders.agentFiles(agentId)).map((l) => [l.file_id, l.file_name] as const),
    );
    return top.map((h) => ({
      fileName: names.get(fileOf.get(h.passage.id) ?? '') ?? 'Unknown File',
      text: h.passage.text,
    }));
  }
}

function groupByHandle<T extends { embedding: string }>(archives: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const a of archives) out.set(a.embedding, [...(out.get(a.embedding) ?? []), a]);
  return out;
}

/** Python's `str(list)` of names, as Letta's error texts print them. */
function pyList(names: string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

function toAgentFile(row: AgentFileRecord, folderName: string, charLimit: number): AgentFile {
  return {
    id: row.id,
    file_id: row.file_id,
    file_name: row.file_name,
    folder_id: row.folder_id,
    folder_name: folderName,
    is_open: row.is_open === 1,
    last_accessed_at: row.last_accessed_at,
    visible_content: row.is_open === 1 ? (row.visible_content?.slice(0, charLimit) ?? null) : null,
    start_line: row.start_line,
    end_line: row.end_line,
  };
}

/** Letta's `sanitize_filename` in spirit: the base name only, no path or control characters. */
function sanitizeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f]/g, '').trim();
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

/** `generate_unique_filename`: `{folder}/{name}`, or `{folder}/{base}_({n}){ext}` for the n-th duplicate. */
function uniqueName(folderName: string, originalName: string, existing: number): string {
  if (existing === 0) return `${folderName}/${originalName}`;
  const dot = originalName.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [originalName.slice(0, dot), originalName.slice(dot)] : [originalName, ''];
  return `${folderName}/${base}_(${existing})${ext}`;
}
