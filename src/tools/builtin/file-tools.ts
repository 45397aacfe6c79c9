import { FileRangeError, numberedView, strategyOf, type FileOpenRequest, type FilesPort } from '../../domain/files.js';
import type { ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../../domain/ports.js';

const GREP_PAGE_SIZE = 20;
const MAX_TOTAL_COLLECTED = 1000;
const MAX_PATTERN_LENGTH = 1000;
const MAX_SEMANTIC_RESULTS = 50;
const MAX_PASSAGE_LINES = 20;

/** A refusal the model sees as the tool's error text. */
class FileToolError extends Error {}

function compile(pattern: string): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new FileToolError(`Pattern too complex: ${pattern.length} chars > ${MAX_PATTERN_LENGTH} limit`);
  try {
    return new RegExp(pattern, 'im');
  } catch (error) {
    throw new FileToolError(`Invalid regex pattern: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function intArg(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw new FileToolError(`Expected an integer, got ${JSON.stringify(value)}`);
  return n;
}

function openRequests(value: unknown): FileOpenRequest[] {
  const list = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list)) throw new FileToolError('file_requests must be a list of {file_name, offset?, length?}');
  return list.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || typeof (item as { file_name?: unknown }).file_name !== 'string')
      throw new FileToolError(`Invalid file request type: ${typeof item}. Expected dict or FileOpenRequest.`);
    const r = item as Record<string, unknown>;
    return { file_name: r.file_name as string, offset: intArg(r.offset) ?? null, length: intArg(r.length) ?? null };
  });
}

async function openFiles(files: FilesPort, args: Record<string, unknown>, agentId: string): Promise<string> {
  const requests = openRequests(args.file_requests);
  const result = await files.openFiles(agentId, requests, args.close_all_others === true);
  await files.markAccess(
    agentId,
    requests.map((r) => r.file_name),
  );
  const previously = (name: string) => {
    const range = result.previous.get(name);
    if (!range) return '';
    const [start, end] = range;
    if (start !== null && end !== null) return ` (previously lines ${start}-${end})`;
    if (start !== null) return ` (previously lines ${start}-end)`;
    return ' (previously full file)';
  };
  const summaries = requests.map((r) => {
    if (r.offset != null && r.length != null)
      return `${r.file_name} (lines ${r.offset + 1}-${r.offset + r.length})${previously(r.file_name)}`;
    if (r.offset != null) return `${r.file_name} (lines ${r.offset + 1}-end)${previously(r.file_name)}`;
    return `${r.file_name}${previously(r.file_name)}`;
  });
  let message =
    requests.length === 1 ? `* Opened ${summaries[0]}` : `* Opened ${requests.length} files: ${summaries.join(', ')}`;
  if (result.closedByRequest.length > 0)
    message += `\nNote: Closed ${result.closedByRequest.length} file(s) due to close_all_others=True: ${result.closedByRequest.join(', ')}`;
  if (result.closedByLimit.length > 0)
    message += `\nNote: Closed ${result.closedByLimit.length} least recently used file(s) due to open file limit: ${result.closedByLimit.join(', ')}`;
  return message;
}

/** `include` as Letta reads it: a glob when it has `*` and no other regex syntax, else a regex. */
function includeRegex(include: string): RegExp {
  const glob = include.includes('*') && !/[\^$()[\]{}\\+]/.test(include);
  return compile(glob ? `${include.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$` : include);
}

async function grepFiles(files: FilesPort, args: Record<string, unknown>, agentId: string): Promise<string> {
  const pattern = typeof args.pattern === 'string' ? args.pattern.trim() : '';
  if (!pattern) throw new FileToolError('Empty search pattern provided');
  const regex = compile(pattern);
  const include = typeof args.include === 'string' ? args.include.trim() : '';
  const contextLines = intArg(args.context_lines) ?? 1;
  const offset = Math.max(0, intArg(args.offset) ?? 0);

  let attached = await files.attachedFiles(agentId);
  if (attached.length === 0) return 'No files are currently attached to search';
  if (include) {
    const filter = includeRegex(include);
    const before = attached.length;
    attached = attached.filter((f) => filter.test(f.fileName));
    if (attached.length === 0) return `No files match the filename pattern '${include}' (filtered ${before} files)`;
  }

  const matches: { fileName: string; line: number; context: string[] }[] = [];
  const withMatches = new Set<string>();
  for (const file of attached) {
    if (matches.length >= MAX_TOTAL_COLLECTED) break;
    const lines = numberedView(file.fileName, file.content, strategyOf(file.fileName, file.fileType)).slice(1);
    for (let i = 0; i < lines.length && matches.length < MAX_TOTAL_COLLECTED; i++) {
      const formatted = lines[i]!;
      const colon = formatted.indexOf(':');
      if (!regex.test(formatted.slice(colon + 1).trim())) continue;
      withMatches.add(file.fileName);
      const context: string[] = [];
      for (let j = Math.max(0, i - contextLines); j <= Math.min(lines.length - 1, i + contextLines); j++)
        context.push(`${j === i ? '>' : ' '} ${lines[j]}`);
      matches.push({ fileName: file.fileName, line: Number(formatted.slice(0, colon)), context });
    }
  }
  await files.markAccess(agentId, [...withMatches]);

  const total = matches.length;
  if (total === 0)
    return `No matches found for pattern: '${pattern}'${include ? ` in files matching '${include}'` : ''}`;
  const end = offset + GREP_PAGE_SIZE;
  const capped = total >= MAX_TOTAL_COLLECTED;
  const shown = `showing matches ${offset + 1}-${Math.min(end, total)}`;
  const out = [
    capped
      ? `Found ${MAX_TOTAL_COLLECTED}+ total matches across ${withMatches.size} files (${shown} of ${MAX_TOTAL_COLLECTED}+)`
      : `Found ${total} total matches across ${withMatches.size} files (${shown} of ${total})`,
    '='.repeat(80),
    '\nFiles with matches:',
  ];
  const perFile = new Map<string, number>();
  for (const m of matches) perFile.set(m.fileName, (perFile.get(m.fileName) ?? 0) + 1);
  for (const [name, count] of [...perFile].sort((a, b) => b[1] - a[1]))
    out.push(`  - ${name}: ${count}${capped && count >= MAX_TOTAL_COLLECTED ? '+' : ''} matches`);
  out.push('');
  for (const m of matches.slice(offset, end)) out.push(`\n=== ${m.fileName}:${m.line} ===\n${m.context.join('\n')}`);
  out.push('');
  if (end < total) {
    out.push(`To see more matches, call: grep_files(pattern="${pattern}", offset=${end})`);
    if (capped)
      out.push(
        `Note: Only the first ${MAX_TOTAL_COLLECTED} matches were collected. There may be more matches beyond this limit.`,
      );
  } else {
    out.push(
      capped
        ? 'Showing last page of collected matches. There may be more matches beyond the collection limit.'
        : 'No more matches to show.',
    );
  }
  return out.join('\n');
}

async function semanticSearchFiles(files: FilesPort, args: Record<string, unknown>, agentId: string): Promise<string> {
  const query = typeof args.query === 'string' ? args.query.trim() : '';
  if (!query) throw new FileToolError('Empty search query provided');
  const limit = Math.min(Math.max(1, intArg(args.limit) ?? 5), MAX_SEMANTIC_RESULTS);
  const hits = await files.searchPassages(agentId, query, limit);
  if (hits.length === 0) return `No semantic matches found for query: '${query}'`;
  const byFile = new Map<string, string[]>();
  for (const hit of hits) byFile.set(hit.fileName, [...(byFile.get(hit.fileName) ?? []), hit.text]);
  const results: string[] = [];
  let n = 0;
  for (const [fileName, texts] of byFile) {
    for (const text of texts) {
      n++;
      const lines = text.trim().split(/\r\n|\r|\n/);
      const body = lines.slice(0, MAX_PASSAGE_LINES).map((l) => `  ${l}`);
      if (lines.length > MAX_PASSAGE_LINES)
        body.push(`  ... [truncated ${lines.length - MAX_PASSAGE_LINES} more lines]`);
      results.push(`\n=== ${fileName} (passage #${n}) ===\n${body.join('\n')}`);
    }
  }
  await files.markAccess(
    agentId,
    [...byFile.keys()].filter((name) => name !== 'Unknown File'),
  );
  const summary = `Found ${n} semantic matches in ${byFile.size} file${byFile.size !== 1 ? 's' : ''} for query: '${query}'`;
  return [summary, '='.repeat(summary.length), ...results].join('\n');
}

const IMPLS: Record<string, (files: FilesPort, args: Record<string, unknown>, agentId: string) => Promise<string>> = {
  open_files: openFiles,
  grep_files: grepFiles,
  semantic_search_files: semanticSearchFiles,
};

/** Letta's file tools (`files_tool_executor.py`) over the agent's attached folders. */
export class FileToolExecutor implements ToolExecutor {
  constructor(private readonly files: FilesPort) {}

  handles(toolType: string, name: string): boolean {
    return toolType === 'letta_files_core' && name in IMPLS;
  }

  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult> {
    try {
      return { status: 'success', funcReturn: await IMPLS[call.name]!(this.files, call.args, ctx.agentId) };
    } catch (error) {
      // Letta raises these as ValueError (a bad JSON list of requests is Python's JSONDecodeError, also one).
      if (error instanceof FileToolError || error instanceof FileRangeError || error instanceof SyntaxError) {
        const text = `Error executing function ${call.name}: ValueError: ${error.message}`;
        return { status: 'error', funcReturn: text, stderr: [text] };
      }
      throw error;
    }
  }
}
