import { sql, type Kysely, type Selectable } from 'kysely';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { AgentFileRow, Database, FolderFileRow, FolderRow } from './schema.js';

export type FolderRecord = Selectable<FolderRow>;
export type FolderFileRecord = Selectable<FolderFileRow>;
export type AgentFileRecord = Selectable<AgentFileRow>;

/** File columns without `content`, which can be megabytes and is read only when asked for. */
const FILE_COLUMNS = [
  'seq',
  'id',
  'folder_id',
  'file_name',
  'original_file_name',
  'file_type',
  'file_size',
  'processing_status',
  'error_message',
  'total_chunks',
  'created_at',
  'updated_at',
] as const;

export type FolderFileSummary = Omit<FolderFileRecord, 'content' | 'heartbeat_at'> & { content?: string | null };

/** Folders, their files, the passages each file was chunked into, and each agent's view of the files. */
export class FolderStore {
  constructor(private readonly db: Kysely<Database>) {}

  // ---- folders --------------------------------------------------------------------------------------------

  async insertFolder(row: Omit<FolderRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('folders').values(row).execute();
  }

  async updateFolder(id: string, patch: Partial<Omit<FolderRecord, 'seq' | 'id' | 'archive_id'>>): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('folders').set(patch).where('id', '=', id).execute();
  }

  async deleteFolder(id: string): Promise<void> {
    await this.db.deleteFrom('folders').where('id', '=', id).execute();
  }

  findFolder(id: string): Promise<FolderRecord | undefined> {
    return this.db.selectFrom('folders').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findFolderByName(name: string): Promise<FolderRecord | undefined> {
    return this.db.selectFrom('folders').selectAll().where('name', '=', name).executeTakeFirst();
  }

  listFolders(filter: { name?: string | undefined; agentId?: string | undefined }, page: PageSpec) {
    let q = this.db.selectFrom('folders').selectAll('folders');
    if (filter.name !== undefined) q = q.where('folders.name', '=', filter.name);
    if (filter.agentId !== undefined) {
      const agentId = filter.agentId;
      q = q.where('folders.id', 'in', (eb) =>
        eb.selectFrom('agent_folders').select('folder_id').where('agent_id', '=', agentId),
      );
    }
    return fetchPage(q, 'folders.seq', seqById(this.db, 'folders'), page);
  }

  async countFolders(): Promise<number> {
    const row = await this.db
      .selectFrom('folders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The agent's folders in attachment order (the prompt's `<directories>` order). */
  foldersOf(agentId: string): Promise<FolderRecord[]> {
    return this.db
      .selectFrom('agent_folders')
      .innerJoin('folders', 'folders.id', 'agent_folders.folder_id')
      .selectAll('folders')
      .where('agent_folders.agent_id', '=', agentId)
      .orderBy('agent_folders.created_at')
      .orderBy('folders.seq')
      .execute();
  }

  async agentIdsOf(folderId: string, page?: PageSpec): Promise<string[]> {
    let q = this.db
      .selectFrom('agent_folders')
      .innerJoin('agents', 'agents.id', 'agent_folders.agent_id')
      .select(['agents.id', 'agents.seq'])
      .where('agent_folders.folder_id', '=', folderId);
    if (!page) q = q.orderBy('agents.seq');
    const rows = page ? await fetchPage(q, 'agents.seq', seqById(this.db, 'agents'), page) : await q.execute();
    return rows.map((r) => r.id);
  }

  /** False when the agent already had the folder. */
  async attach(agentId: string, folderId: string, now: string): Promise<boolean> {
    const existing = await this.db
      .selectFrom('agent_folders')
      .select('agent_id')
      .where('agent_id', '=', agentId)
      .where('folder_id', '=', folderId)
      .executeTakeFirst();
    if (existing) return false;
    await this.db
      .insertInto('agent_folders')
      .values({ agent_id: agentId, folder_id: folderId, created_at: now })
      .execute();
    return true;
  }

  async detach(agentId: string, folderId: string): Promise<void> {
    await this.db
      .deleteFrom('agent_folders')
      .where('agent_id', '=', agentId)
      .where('folder_id', '=', folderId)
      .execute();
    await this.db.deleteFrom('agent_files').where('agent_id', '=', agentId).where('folder_id', '=', folderId).execute();
  }

  async stats(): Promise<{ folder_id: string; files: number; size: number }[]> {
    const rows = await this.db
      .selectFrom('folder_files')
      .select(['folder_id', sql<number>`count(*)`.as('files'), sql<number>`coalesce(sum(file_size), 0)`.as('size')])
      .groupBy('folder_id')
      .execute();
    return rows.map((r) => ({ folder_id: r.folder_id, files: Number(r.files), size: Number(r.size) }));
  }

  // ---- files ----------------------------------------------------------------------------------------------

  async insertFile(row: Omit<FolderFileRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('folder_files').values(row).execute();
  }

  async updateFile(id: string, patch: Partial<Omit<FolderFileRecord, 'seq' | 'id' | 'folder_id'>>): Promise<void> {
    if (Object.keys(patch).length > 0)
      await this.db.updateTable('folder_files').set(patch).where('id', '=', id).execute();
  }

  findFile(id: string, withContent: boolean): Promise<FolderFileSummary | undefined> {
    const q = this.db.selectFrom('folder_files').where('id', '=', id);
    return withContent ? q.selectAll().executeTakeFirst() : q.select(FILE_COLUMNS).executeTakeFirst();
  }

  filesByIds(ids: string[]): Promise<FolderFileRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('folder_files').selectAll().where('id', 'in', ids).execute();
  }

  listFiles(folderId: string, withContent: boolean, page: PageSpec): Promise<FolderFileSummary[]> {
    const base = this.db.selectFrom('folder_files').where('folder_id', '=', folderId);
    const seq = seqById(this.db, 'folder_files');
    return withContent
      ? fetchPage(base.selectAll(), 'seq', seq, page)
      : fetchPage(base.select(FILE_COLUMNS), 'seq', seq, page);
  }

  /** The folder's files uploaded under this name, oldest first (duplicate handling). */
  filesNamed(folderId: string, originalName: string): Promise<FolderFileSummary[]> {
    return this.db
      .selectFrom('folder_files')
      .select(FILE_COLUMNS)
      .where('folder_id', '=', folderId)
      .where('original_file_name', '=', originalName)
      .orderBy('seq')
      .execute();
  }

  /** The file goes with its passages (and through them their vectors, tags and full-text rows). */
  async deleteFile(id: string): Promise<void> {
    await this.db
      .deleteFrom('passages')
      .where('id', 'in', (eb) => eb.selectFrom('folder_file_passages').select('passage_id').where('file_id', '=', id))
      .execute();
    await this.db.deleteFrom('folder_files').where('id', '=', id).execute();
  }

  async linkPassages(fileId: string, passageIds: string[]): Promise<void> {
    if (passageIds.length === 0) return;
    await this.db
      .insertInto('folder_file_passages')
      .values(passageIds.map((passage_id) => ({ passage_id, file_id: fileId })))
      .execute();
  }

  /** How many of each file's passages have their vector. */
  async embeddedCounts(fileIds: string[]): Promise<Map<string, number>> {
    if (fileIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('folder_file_passages')
      .innerJoin('passages', 'passages.id', 'folder_file_passages.passage_id')
      .select(['folder_file_passages.file_id', sql<number>`count(*)`.as('n')])
      .where('folder_file_passages.file_id', 'in', fileIds)
      .where('passages.embed_status', '=', 'ready')
      .groupBy('folder_file_passages.file_id')
      .execute();
    return new Map(rows.map((r) => [r.file_id, Number(r.n)]));
  }

  async fileIdsOfPassages(passageIds: string[]): Promise<Map<string, string>> {
    if (passageIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('folder_file_passages')
      .select(['passage_id', 'file_id'])
      .where('passage_id', 'in', passageIds)
      .execute();
    return new Map(rows.map((r) => [r.passage_id, r.file_id]));
  }

  async heartbeatFiles(ids: string[], now: string): Promise<void> {
    if (ids.length > 0)
      await this.db.updateTable('folder_files').set({ heartbeat_at: now }).where('id', 'in', ids).execute();
  }

  /**
   * Fails files still pending or parsing whose process stopped heartbeating (it died, and the upload's bytes with it).
   * Files from before heartbeats existed have none and count as stale.
   */
  async failStaleFiles(before: string, reason: string, now: string): Promise<string[]> {
    const failed = await this.db
      .updateTable('folder_files')
      .set({ processing_status: 'error', error_message: reason, updated_at: now })
      .where('processing_status', 'in', ['pending', 'parsing'])
      .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', before)]))
      .returning('id')
      .execute();
    return failed.map((r) => r.id);
  }

  // ---- an agent's files -----------------------------------------------------------------------------------

  async insertAgentFiles(rows: Omit<AgentFileRecord, 'seq'>[]): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('agent_files').values(rows).execute();
  }

  async updateAgentFile(id: string, patch: Partial<Omit<AgentFileRecord, 'seq' | 'id'>>): Promise<void> {
    await this.db.updateTable('agent_files').set(patch).where('id', '=', id).execute();
  }

  agentFiles(agentId: string): Promise<AgentFileRecord[]> {
    return this.db.selectFrom('agent_files').selectAll().where('agent_id', '=', agentId).orderBy('seq').execute();
  }

  listAgentFiles(agentId: string, isOpen: boolean | undefined, page: PageSpec): Promise<AgentFileRecord[]> {
    let q = this.db.selectFrom('agent_files').selectAll().where('agent_id', '=', agentId);
    if (isOpen !== undefined) q = q.where('is_open', '=', isOpen ? 1 : 0);
    return fetchPage(q, 'seq', seqById(this.db, 'agent_files'), page);
  }

  findAgentFile(agentId: string, fileId: string): Promise<AgentFileRecord | undefined> {
    return this.db
      .selectFrom('agent_files')
      .selectAll()
      .where('agent_id', '=', agentId)
      .where('file_id', '=', fileId)
      .executeTakeFirst();
  }

  /** Agents with this file in view, for the prompt rebuild its deletion needs. */
  async agentsWithFile(fileId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('agent_files').select('agent_id').where('file_id', '=', fileId).execute();
    return rows.map((r) => r.agent_id);
  }
}
