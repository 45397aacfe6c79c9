import { DEFAULT_BLOCK_LIMIT } from '../schemas/block.js';
import type { BlockRecord } from '../store/block.store.js';

/**
 * How a block is a file in Letta Code's memory repository: `system/<label>.md` (a label's `/` makes folders), YAML
 * front matter with `description` (which Letta Code's pre-commit hook requires), `limit` when it is not the default
 * and `read_only: true` when set, then the value verbatim. `memory_apply_patch` rewrites the front matter with only
 * `description` and `read_only`, so a missing `limit` means "unchanged", never "back to the default".
 */

export const SYSTEM_DIR = 'system/';
const MD = '.md';

export function blockPath(label: string): string {
  return `${SYSTEM_DIR}${label}${MD}`;
}

/** The block label a repository path stands for, or undefined for files that are not blocks. */
export function labelOfPath(path: string): string | undefined {
  if (!path.startsWith(SYSTEM_DIR) || !path.endsWith(MD)) return undefined;
  const label = path.slice(SYSTEM_DIR.length, -MD.length);
  return label.length > 0 ? label : undefined;
}

/** Front matter is one line per key; a description is shown on one line and read back as unchanged. */
export function shownDescription(block: Pick<BlockRecord, 'label' | 'description'>): string {
  const oneLine = (block.description ?? '').replace(/\s*\r?\n\s*/g, ' ').trim();
  return oneLine || `The ${block.label} memory block`;
}

export function renderBlockFile(block: BlockRecord): string {
  const lines = ['---', `description: ${shownDescription(block)}`];
  if (block.char_limit !== DEFAULT_BLOCK_LIMIT) lines.push(`limit: ${block.char_limit}`);
  if (block.read_only) lines.push('read_only: true');
  lines.push('---');
  return `${lines.join('\n')}\n${block.value}`;
}

export interface MemoryFile {
  description?: string;
  limit?: number;
  readOnly?: boolean;
  value: string;
}

/** Parses a pushed block file; a string is the reason it cannot be a block. Without front matter it is all value. */
export function parseBlockFile(text: string): MemoryFile | string {
  if (!text.startsWith('---\n') && !text.startsWith('---\r\n')) return { value: text };
  const match = /^---\r?\n(?:([\s\S]*?)\r?\n)?---(?:\r?\n|$)([\s\S]*)$/.exec(text);
  if (!match) return 'front matter opened with --- but never closed';
  const file: MemoryFile = { value: match[2] ?? '' };
  for (const line of (match[1] ?? '').split(/\r?\n/)) {
    if (!line.trim() || /^\s/.test(line)) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return `front matter line '${line}' is not 'key: value'`;
    const key = line.slice(0, colon).trim();
    const raw = unquote(line.slice(colon + 1).trim());
    if (key === 'description') file.description = raw;
    else if (key === 'limit') {
      if (!/^\d+$/.test(raw) || Number(raw) < 1) return `limit must be a positive whole number, not '${raw}'`;
      file.limit = Number(raw);
    } else if (key === 'read_only') {
      if (raw !== 'true' && raw !== 'false') return `read_only must be true or false, not '${raw}'`;
      file.readOnly = raw === 'true';
    }
  }
  return file;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      return String(JSON.parse(value));
    } catch {
      return value.slice(1, -1);
    }
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replace(/''/g, "'");
  return value;
}
