import { createHash } from 'node:crypto';

/**
 * Git's object and wire formats, as far as a server that keeps repositories in a database needs them: object ids,
 * trees and commits (docs: gitformat-*), and pkt-lines (gitprotocol-common). Pure functions, no git binary.
 */

export type GitObjectKind = 'blob' | 'tree' | 'commit' | 'tag';

export interface GitObject {
  sha: string;
  kind: GitObjectKind;
  /** The content, without git's `<kind> <size>\0` header. */
  data: Buffer;
}

export const ZERO_SHA = '0'.repeat(40);
export const TREE_MODE = '40000';
export const FILE_MODE = '100644';

export function gitObject(kind: GitObjectKind, data: Buffer): GitObject {
  return { sha: createHash('sha1').update(objectHeader(kind, data)).update(data).digest('hex'), kind, data };
}

/** What a loose object file holds (deflated): the header, then the content. */
export function objectHeader(kind: string, data: Buffer): Buffer {
  return Buffer.from(`${kind} ${data.length}\0`);
}

export interface TreeEntry {
  mode: string;
  name: string;
  sha: string;
}

/** Git orders a tree's entries by name, comparing a subtree's name as if it ended in `/`. */
function sortKey(entry: TreeEntry): Buffer {
  return Buffer.from(entry.mode === TREE_MODE ? `${entry.name}/` : entry.name);
}

export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  return Buffer.concat(sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.sha, 'hex')]));
}

export function parseTree(data: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const nul = data.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > data.length) throw new Error('malformed tree object');
    entries.push({
      mode: data.toString('latin1', at, space),
      name: data.toString('utf8', space + 1, nul),
      sha: data.toString('hex', nul + 1, nul + 21),
    });
    at = nul + 21;
  }
  return entries;
}

export interface CommitSignature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
}

export function encodeCommit(commit: {
  tree: string;
  parents: string[];
  author: CommitSignature;
  message: string;
}): Buffer {
  const who = (s: CommitSignature) => `${s.name} <${s.email}> ${s.time} +0000`;
  const lines = [`tree ${commit.tree}`, ...commit.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${who(commit.author)}`, `committer ${who(commit.author)}`);
  return Buffer.from(
    `${lines.join('\n')}\n\n${commit.message.endsWith('\n') ? commit.message : `${commit.message}\n`}`,
  );
}

/** The commit's root tree and parents, read from its header lines. */
export function parseCommit(data: Buffer): { tree: string; parents: string[] } {
  const header = data.toString('utf8', 0, Math.max(0, data.indexOf('\n\n')));
  let tree: string | undefined;
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5);
    else if (line.startsWith('parent ')) parents.push(line.slice(7));
  }
  if (!tree) throw new Error('malformed commit object');
  return { tree, parents };
}

// ---- pkt-lines --------------------------------------------------------------------------------------------------

export const FLUSH_PKT = Buffer.from('0000');

export function pktLine(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0')), body]);
}

/**
 * Reads pkt-lines from `buffer` at `offset` up to the first flush; `null` when the input is not pkt-lines. `end` is
 * where the bytes after the flush start (a push's pack).
 */
export function readPktLines(buffer: Buffer, offset = 0): { lines: Buffer[]; end: number } | null {
  const lines: Buffer[] = [];
  let at = offset;
  while (at + 4 <= buffer.length) {
    const size = Number.parseInt(buffer.toString('latin1', at, at + 4), 16);
    if (!/^[0-9a-f]{4}$/i.test(buffer.toString('latin1', at, at + 4)) || (size > 0 && size < 4)) return null;
    if (size === 0) return { lines, end: at + 4 };
    if (at + size > buffer.length) return null;
    lines.push(buffer.subarray(at + 4, at + size));
    at += size;
  }
  return null;
}

/** Largest payload of a side-band-64k packet: 65520 bytes less the length and the band byte. */
const SIDE_BAND_MAX = 65515;

/** Wraps `data` into side-band packets on `band` (1: protocol data, 2: progress text git prints as `remote:`). */
export function sideBand(band: 1 | 2, data: Buffer): Buffer {
  const packets: Buffer[] = [];
  for (let at = 0; at < data.length; at += SIDE_BAND_MAX) {
    packets.push(pktLine(Buffer.concat([Buffer.from([band]), data.subarray(at, at + SIDE_BAND_MAX)])));
  }
  return Buffer.concat(packets);
}
