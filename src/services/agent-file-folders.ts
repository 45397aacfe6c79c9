import { randomBytes } from 'node:crypto';
import { fileTypeOf, numberedView, strategyOf } from '../domain/files.js';
import { nowIso, toIso } from '../lib/time.js';
import type { AgentFile, AgentFileAgent } from '../schemas/agent-file.js';
import type { FolderRecord } from '../store/folder.store.js';
import type { Stores } from '../store/index.js';
import { importedFileName } from './agent-file-checks.js';
import type { FileIdMap } from './agent-file-graph.js';
import type { FolderService } from './folder.service.js';

/**
 * The folders (Letta's sources) of an agent file, their files with their text, and each agent's views of those
 * files, as Letta's `agent_serialization_manager` writes and reads them.
 */

/** The folders an export carries and their files, collected while its agents are exported. */
export class ExportedFolders {
  private readonly folders = new Map<string, FolderRecord>();
  private readonly fileIds = new Map<string, string[]>();

  constructor(
    private readonly folderService: FolderService,
    private readonly ids: FileIdMap,
  ) {}

  /**
   * One agent's `source_ids` and `files_agents`. Folders and their files are numbered before the views, so that the
   * numbering follows the folders' attachment order and the files' upload order, not the order they were opened.
   */
  async ofAgent(
    tx: Stores,
    agentId: string,
    fileAgentId: string,
  ): Promise<{ source_ids: string[]; files_agents: Record<string, unknown>[] }> {
    const sourceIds: string[] = [];
    for (const folder of await tx.folders.foldersOf(agentId)) {
      sourceIds.push(this.ids.of(folder.id, 'source'));
      if (this.folders.has(folder.id)) continue;
      this.folders.set(folder.id, folder);
      const files = await tx.folders.listFiles(folder.id, false, { limit: Number.MAX_SAFE_INTEGER, order: 'asc' });
      this.fileIds.set(
        folder.id,
        files.map((f) => f.id),
      );
      for (const file of files) this.ids.of(file.id, 'file');
    }
    const views = (await tx.folders.agentFiles(agentId)).map((view) => ({
      agent_id: fileAgentId,
      file_id: this.ids.of(view.file_id, 'file'),
      source_id: this.ids.of(view.folder_id, 'source'),
      file_name: view.file_name,
      is_open: view.is_open === 1,
      visible_content: view.visible_content,
      last_accessed_at: view.last_accessed_at,
      start_line: view.start_line,
      end_line: view.end_line,
      id: this.ids.of(view.id, 'file_agent'),
    }));
    return { source_ids: sourceIds, files_agents: views };
  }

  /** Letta's `SourceSchema` per folder: `SourceCreate`'s fields, the embedding in its config. */
  async sources(tx: Stores): Promise<Record<string, unknown>[]> {
    const folders = await this.folderService.presentFolders([...this.folders.values()], tx);
    return folders.map((folder) => ({
      name: folder.name,
      description: folder.description,
      instructions: folder.instructions,
      metadata: folder.metadata,
      embedding: null,
      embedding_chunk_size: null,
      embedding_config: folder.embedding_config,
      id: this.ids.of(folder.id, 'source'),
    }));
  }

  /** Letta's `FileSchema` per file, with its text (what an importer chunks and embeds again). */
  async files(tx: Stores): Promise<Record<string, unknown>[]> {
    const wanted = [...this.fileIds.values()].flat();
    const rows = new Map((await tx.folders.filesByIds(wanted)).map((f) => [f.id, f] as const));
    const files = await this.folderService.presentFiles(
      wanted.flatMap((id) => rows.get(id) ?? []),
      tx,
    );
    return files.map((file) => ({
      source_id: this.ids.of(file.source_id, 'source'),
      file_name: file.file_name,
      original_file_name: file.original_file_name,
      file_path: file.file_path,
      file_type: file.file_type,
      file_size: file.file_size,
      file_creation_date: file.file_creation_date,
      file_last_modified_date: file.file_last_modified_date,
      processing_status: file.processing_status,
      error_message: file.error_message,
      total_chunks: file.total_chunks,
      chunks_embedded: file.chunks_embedded,
      content: file.content,
      id: this.ids.of(file.id, 'file'),
    }));
  }
}

/** What an imported file became: its database ids and the name agents see it by. */
export interface ImportedFile {
  id: string;
  folderId: string;
  fileName: string;
  fileType: string;
  content: string | null;
}

/**
 * Letta's step 3 and 4 inside the import's transaction: each source becomes a new folder (a name already taken gets
 * Letta's `_<8 hex>` suffix, so an import never writes into an existing folder) and each file is stored with its
 * text, to be chunked and embedded once the import commits. Returns the new folders and files by file id.
 */
export async function importFolders(
  tx: Stores,
  file: AgentFile,
  folders: FolderService,
  embeddingOverride: string | undefined,
): Promise<{ folders: Map<string, string>; files: Map<string, ImportedFile> }> {
  const folderIds = new Map<string, string>();
  const folderNames = new Map<string, string>();
  for (const source of file.sources) {
    const taken = await tx.folders.findFolderByName(source.name);
    const name = taken ? `${source.name}_${randomBytes(4).toString('hex')}` : source.name;
    const created = await folders.create(
      {
        name,
        description: source.description,
        instructions: source.instructions,
        metadata: source.metadata,
        embedding: embeddingOverride ?? source.embedding,
        embedding_config: embeddingOverride ? null : source.embedding_config,
        embedding_chunk_size: source.embedding_chunk_size,
      },
      tx,
    );
    folderIds.set(source.id, created.id);
    folderNames.set(source.id, name);
  }
  const files = new Map<string, ImportedFile>();
  for (const entry of file.files) {
    const originalFileName = importedFileName(entry);
    const fileName = `${folderNames.get(entry.source_id)!}/${originalFileName}`;
    const fileType = entry.file_type ?? fileTypeOf(originalFileName, undefined)?.mime ?? 'text/plain';
    const folderId = folderIds.get(entry.source_id)!;
    const content = entry.content ?? null;
    const id = await folders.importFile(tx, { folderId, fileName, originalFileName, fileType, content });
    files.set(entry.id, { id, folderId, fileName, fileType, content });
  }
  return { folders: folderIds, files };
}

/** Attaches the agent's folders and restores its views of their files (step 6's `attach_files_bulk`). */
export async function restoreFileViews(
  tx: Stores,
  folders: FolderService,
  agentId: string,
  agent: AgentFileAgent,
  imported: { folders: Map<string, string>; files: Map<string, ImportedFile> },
): Promise<void> {
  const sourceIds = new Set([...(agent.source_ids ?? []), ...agent.files_agents.map((v) => v.source_id)]);
  if (sourceIds.size === 0) return;
  const links = agent.files_agents.map((view) => {
    const file = imported.files.get(view.file_id)!;
    // A view the file leaves blank shows the file whole, as attaching a folder opens its files.
    const visible =
      view.visible_content ??
      numberedView(file.fileName, file.content ?? '', strategyOf(file.fileName, file.fileType)).join('\n');
    return {
      file_id: file.id,
      folder_id: file.folderId,
      file_name: file.fileName,
      is_open: view.is_open ? 1 : 0,
      visible_content: view.is_open ? visible : null,
      start_line: view.start_line ?? null,
      end_line: view.end_line ?? null,
      last_accessed_at: view.last_accessed_at ? toIso(view.last_accessed_at) : nowIso(),
    };
  });
  await folders.restoreAttachments(
    tx,
    agentId,
    [...sourceIds].map((id) => imported.folders.get(id)!),
    links,
  );
}
