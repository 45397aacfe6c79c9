/**
 * What Cairn knows about uploaded files, as Letta's file processor treats them (`file_processor/file_types.py`,
 * `chunker/line_chunker.py`): which types are accepted, how each is cut into lines for viewing, and the limits
 * on how much of a file an agent keeps open.
 */

export type ChunkingStrategy = 'code' | 'documentation' | 'structured' | 'lines';

export type FileKind = 'text' | 'pdf' | 'html';

interface FileTypeInfo {
  mime: string;
  strategy: ChunkingStrategy;
  kind: FileKind;
}

const t = (mime: string, strategy: ChunkingStrategy, kind: FileKind = 'text'): FileTypeInfo => ({
  mime,
  strategy,
  kind,
});

const BY_EXTENSION: Record<string, FileTypeInfo> = {
  '.pdf': t('application/pdf', 'lines', 'pdf'),
  '.txt': t('text/plain', 'lines'),
  '.md': t('text/markdown', 'documentation'),
  '.markdown': t('text/markdown', 'documentation'),
  '.json': t('application/json', 'structured'),
  '.jsonl': t('application/jsonl', 'structured'),
  '.csv': t('text/csv', 'structured'),
  '.py': t('text/x-python', 'code'),
  '.js': t('text/javascript', 'code'),
  '.ts': t('text/x-typescript', 'code'),
  '.java': t('text/x-java-source', 'code'),
  '.cpp': t('text/x-c++', 'code'),
  '.cxx': t('text/x-c++', 'code'),
  '.c': t('text/x-c', 'code'),
  '.h': t('text/x-c', 'code'),
  '.cs': t('text/x-csharp', 'code'),
  '.php': t('text/x-php', 'code'),
  '.rb': t('text/x-ruby', 'code'),
  '.go': t('text/x-go', 'code'),
  '.rs': t('text/x-rust', 'code'),
  '.swift': t('text/x-swift', 'code'),
  '.kt': t('text/x-kotlin', 'code'),
  '.scala': t('text/x-scala', 'code'),
  '.r': t('text/x-r', 'code'),
  '.m': t('text/x-objective-c', 'code'),
  '.html': t('text/html', 'code', 'html'),
  '.htm': t('text/html', 'code', 'html'),
  '.css': t('text/css', 'structured'),
  '.scss': t('text/x-scss', 'structured'),
  '.sass': t('text/x-sass', 'structured'),
  '.less': t('text/x-less', 'structured'),
  '.vue': t('text/x-vue', 'code'),
  '.jsx': t('text/x-jsx', 'code'),
  '.tsx': t('text/x-tsx', 'code'),
  '.xml': t('application/xml', 'structured'),
  '.yaml': t('text/x-yaml', 'structured'),
  '.yml': t('text/x-yaml', 'structured'),
  '.toml': t('application/toml', 'structured'),
  '.ini': t('text/x-ini', 'structured'),
  '.cfg': t('text/x-conf', 'structured'),
  '.conf': t('text/x-conf', 'structured'),
  '.sh': t('text/x-shellscript', 'code'),
  '.bash': t('text/x-shellscript', 'code'),
  '.ps1': t('text/x-powershell', 'code'),
  '.bat': t('text/x-batch', 'code'),
  '.cmd': t('text/x-batch', 'code'),
  '.dockerfile': t('text/x-dockerfile', 'code'),
  '.sql': t('text/x-sql', 'code'),
};

const BY_MIME = new Map<string, FileTypeInfo>();
for (const info of Object.values(BY_EXTENSION)) if (!BY_MIME.has(info.mime)) BY_MIME.set(info.mime, info);

/** Letta's upload limit per file. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

function extensionOf(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/**
 * The upload's type: the client's content type when it is a supported one, else the name's extension (browsers and
 * SDKs often send `application/octet-stream`). Undefined for a type Cairn cannot read.
 */
export function fileTypeOf(fileName: string, contentType: string | undefined): FileTypeInfo | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return BY_EXTENSION[extensionOf(fileName)] ?? BY_MIME.get(media);
}

export function strategyOf(fileName: string, fileType: string): ChunkingStrategy {
  return BY_MIME.get(fileType)?.strategy ?? BY_EXTENSION[extensionOf(fileName)]?.strategy ?? 'lines';
}

export function splitLines(text: string, keepIndent: boolean): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = keepIndent ? raw.trimEnd() : raw.trim();
    if (line) out.push(line);
  }
  return out;
}

export function splitSentences(text: string): string[] {
  return text
    .trim()
    .split(/(?<=[.!?])\s+(?=[A-Z])/)
    .map((s) => s.trim().replace(/\s+/g, ' '))
    .filter((s) => s.length > 0);
}

/** The file cut into Letta's viewing units: sentences for documentation, lines otherwise. */
export function viewUnits(
  content: string,
  strategy: ChunkingStrategy,
): { units: string[]; kind: 'sentences' | 'lines' } {
  if (strategy === 'documentation') return { units: splitSentences(content), kind: 'sentences' };
  return { units: splitLines(content, strategy === 'code'), kind: 'lines' };
}

export class FileRangeError extends Error {}

/**
 * `LineChunker.chunk_text` with metadata: numbered units of the file, headed by `[Viewing …]`. `start` is
 * 0-based, `end` exclusive; a start past the end is an error, as in Letta.
 */
export function numberedView(
  fileName: string,
  content: string,
  strategy: ChunkingStrategy,
  start?: number,
  end?: number,
): string[] {
  const { units, kind } = viewUnits(content, strategy);
  if (units.length === 0) return [];
  const total = units.length;
  let slice = units;
  let first = 0;
  if (start !== undefined || end !== undefined) {
    if (start !== undefined && end !== undefined && start >= end)
      throw new FileRangeError(`Invalid range: start (${start}) must be less than end (${end})`);
    if (start !== undefined && start >= total)
      throw new FileRangeError(
        `File ${fileName} has only ${total} ${kind}, but requested offset ${start + 1} is out of range`,
      );
    first = Math.max(0, start ?? 0);
    slice = units.slice(first, end === undefined ? undefined : Math.min(end, total));
  }
  const lines = slice.map((unit, i) => `${i + first + 1}: ${unit}`);
  if (start !== undefined && end !== undefined)
    lines.unshift(`[Viewing ${kind} ${start + 1} to ${end} (out of ${total} ${kind})]`);
  else if (start !== undefined) lines.unshift(`[Viewing ${kind} ${start + 1} to end (out of ${total} ${kind})]`);
  else lines.unshift(`[Viewing file start (out of ${total} ${kind})]`);
  return lines;
}

export const FILE_IS_TRUNCATED_WARNING = '# NOTE: This block is truncated, use functions to view the full content.';

/** `truncate_file_visible_content`: what of an open file the prompt shows. */
export function visibleContent(content: string | null, isOpen: boolean, charLimit: number): string {
  const visible = content && isOpen ? content : '';
  if (visible.length <= charLimit) return visible;
  const warning = `...[TRUNCATED]\n${FILE_IS_TRUNCATED_WARNING}`;
  return visible.slice(0, charLimit - warning.length) + warning;
}

/** `calculate_file_defaults_based_on_context_window`: (max_files_open, per_file_view_window_char_limit). */
export function fileLimitsFor(contextWindow: number | null | undefined): { maxFilesOpen: number; charLimit: number } {
  if (!contextWindow) return { maxFilesOpen: 5, charLimit: 50_000 };
  if (contextWindow <= 8_000) return { maxFilesOpen: 3, charLimit: 5_000 };
  if (contextWindow <= 32_000) return { maxFilesOpen: 5, charLimit: 15_000 };
  if (contextWindow <= 128_000) return { maxFilesOpen: 10, charLimit: 25_000 };
  if (contextWindow <= 200_000) return { maxFilesOpen: 10, charLimit: 40_000 };
  return { maxFilesOpen: 15, charLimit: 40_000 };
}

/** An agent's limits: its own `max_files_open` and `per_file_view_window_char_limit` where set, else the defaults. */
export function agentFileLimits(agent: {
  llm_config: string;
  max_files_open: number | null;
  per_file_view_window_char_limit: number | null;
}): { maxFilesOpen: number; charLimit: number } {
  const defaults = fileLimitsFor((JSON.parse(agent.llm_config) as { context_window?: number }).context_window);
  return {
    maxFilesOpen: agent.max_files_open ?? defaults.maxFilesOpen,
    charLimit: agent.per_file_view_window_char_limit ?? defaults.charLimit,
  };
}

/**
 * Letta's embedding chunks (`llama_index` sentence splitter, 512 tokens with 50 overlap), approximated by words:
 * about 0.75 words per token, split at sentence ends where one falls in the window.
 */
export function embeddingChunks(content: string, chunkTokens = 512, overlapTokens = 50): string[] {
  const words = content.split(/\s+/).filter((w) => w.length > 0);
  const size = Math.max(1, Math.floor(chunkTokens * 0.75));
  const overlap = Math.min(size - 1, Math.floor(overlapTokens * 0.75));
  const chunks: string[] = [];
  for (let at = 0; at < words.length;) {
    let end = Math.min(words.length, at + size);
    if (end < words.length) {
      // Prefer ending on a sentence inside the last quarter of the window.
      for (let i = end - 1; i > at + Math.floor(size * 0.75); i--) {
        if (/[.!?]["')\]]?$/.test(words[i]!)) {
          end = i + 1;
          break;
        }
      }
    }
    chunks.push(words.slice(at, end).join(' '));
    if (end >= words.length) break;
    at = Math.max(at + 1, end - overlap);
  }
  return chunks;
}

/** One entry of `open_files`'s `file_requests` (`letta/functions/types.py:FileOpenRequest`). */
export interface FileOpenRequest {
  file_name: string;
  offset?: number | null;
  length?: number | null;
}

export interface AttachedFile {
  fileId: string;
  fileName: string;
  fileType: string;
  content: string;
}

/** What `open_files` reports: files it closed, and the ranges of requested files that were open before (1-based). */
export interface OpenFilesResult {
  closedByRequest: string[];
  closedByLimit: string[];
  previous: Map<string, [number | null, number | null]>;
}

/** The file tools' view of an agent's folders; the folder service provides it. */
export interface FilesPort {
  attachedFiles(agentId: string): Promise<AttachedFile[]>;
  /** Throws `FileRangeError` with Letta's text for a request the tool must refuse. */
  openFiles(agentId: string, requests: FileOpenRequest[], closeAllOthers: boolean): Promise<OpenFilesResult>;
  markAccess(agentId: string, fileNames: string[]): Promise<void>;
  searchPassages(agentId: string, query: string, limit: number): Promise<{ fileName: string; text: string }[]>;
}
