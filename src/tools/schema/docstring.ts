import {
  cleandoc,
  DOT,
  LINE_END,
  LINE_START,
  NS,
  S,
  splitLines,
  splitOnce,
  splitWhitespace,
  strip,
  stripChars,
} from './python-text.js';

/**
 * Docstring parsing with the results of the `docstring_parser` package that Letta calls (`parse(doc)`, style AUTO):
 * the docstring is parsed as ReST, Google, NumPy and Epydoc, a style that raises is dropped, and the one with the most
 * meta entries wins, ties going to the earlier style in that order. Only what schema generation reads is kept: the
 * short and long descriptions and each parameter's name and description; the other entries are only counted.
 */
export interface ParsedDocstring {
  shortDescription: string | null;
  longDescription: string | null;
  params: { name: string; description: string | null }[];
  metaCount: number;
}

class DocstringParseError extends Error {}

const PARAM_KEYWORDS = new Set(['param', 'parameter', 'arg', 'argument', 'attribute', 'key', 'keyword']);
const RETURNS_KEYWORDS = new Set(['return', 'returns']);
const YIELDS_KEYWORDS = new Set(['yield', 'yields']);
const RAISES_KEYWORDS = new Set(['raises', 'raise', 'except', 'exception']);

export function parseDocstring(text: string): ParsedDocstring {
  const results: ParsedDocstring[] = [];
  let failure: unknown = null;
  for (const style of [parseRest, parseGoogle, parseNumpy, parseEpydoc]) {
    try {
      results.push(style(text));
    } catch (error) {
      if (!(error instanceof DocstringParseError)) throw error;
      failure = error;
    }
  }
  let best: ParsedDocstring | undefined;
  for (const result of results) if (!best || result.metaCount > best.metaCount) best = result;
  if (!best) throw failure instanceof Error ? failure : new Error('the docstring could not be parsed');
  return best;
}

type Draft = ParsedDocstring;

function emptyDocstring(): Draft {
  return { shortDescription: null, longDescription: null, params: [], metaCount: 0 };
}

/** The part every style shares: split off the description at the first section, then short / long at the first line. */
function describe(ret: Draft, descChunk: string): void {
  const parts = splitOnce(descChunk, '\n');
  ret.shortDescription = parts[0] || null;
  if (parts.length > 1) ret.longDescription = strip(parts[1] ?? '') || null;
}

function splitAtFirst(text: string, pattern: RegExp): [string, string] {
  const match = pattern.exec(text);
  return match ? [text.slice(0, match.index), text.slice(match.index)] : [text, ''];
}

/** `first_line + "\n" + cleandoc(rest)`, which every style applies to a multi-line entry description. */
function joinContinuation(desc: string): string {
  if (!desc.includes('\n')) return desc;
  const [first, rest] = splitOnce(desc, '\n') as [string, string];
  return first + '\n' + cleandoc(rest);
}

// --- Google ----------------------------------------------------------------------------------------------------

type GoogleSectionType = 'singular' | 'multiple' | 'singular_or_multiple';
const GOOGLE_SECTIONS: [string, string, GoogleSectionType][] = [
  ['Arguments', 'param', 'multiple'],
  ['Args', 'param', 'multiple'],
  ['Parameters', 'param', 'multiple'],
  ['Params', 'param', 'multiple'],
  ['Raises', 'raises', 'multiple'],
  ['Exceptions', 'raises', 'multiple'],
  ['Except', 'raises', 'multiple'],
  ['Attributes', 'attribute', 'multiple'],
  ['Example', 'examples', 'singular'],
  ['Examples', 'examples', 'singular'],
  ['Returns', 'returns', 'singular_or_multiple'],
  ['Yields', 'yields', 'singular_or_multiple'],
];
const GOOGLE_BY_TITLE = new Map(GOOGLE_SECTIONS.map(([title, key, type]) => [title, { key, type }]));
const GOOGLE_TITLES = `${LINE_START}(${GOOGLE_SECTIONS.map(([t]) => `(${t})`).join('|')}):[ \\t\\r\\f\\v]*${LINE_END}`;
const GOOGLE_TYPED_ARG = new RegExp(`^${S}*(${DOT}+?)${S}*\\(${S}*(${DOT}*${NS}+)${S}*\\)`);
const GOOGLE_MULTIPLE = new RegExp(`^(?:(${S}*[^:${S.slice(1, -1)}]+:)|([^:]*\\]:${DOT}*))`);

function parseGoogle(text: string): Draft {
  const ret = emptyDocstring();
  if (!text) return ret;
  text = cleandoc(text);
  const [descChunk, metaChunk] = splitAtFirst(text, new RegExp(GOOGLE_TITLES));
  describe(ret, descChunk);

  const matches = [...metaChunk.matchAll(new RegExp(GOOGLE_TITLES, 'g'))];
  if (matches.length === 0) return ret;
  // An ordered dict keyed by title: a repeated section keeps its first place and its last text.
  const chunks = new Map<string, string>();
  matches.forEach((match, j) => {
    const start = (match.index ?? 0) + match[0].length;
    const next = matches[j + 1];
    const end = next ? (next.index ?? 0) : metaChunk.length;
    const title = match[1] as string;
    let details = metaChunk.slice(start, end);
    const unknown = new RegExp(`\\n${NS}`).exec(details);
    if (unknown) details = details.slice(0, unknown.index);
    chunks.set(title, stripChars(details, '\n'));
  });

  for (const [title, chunk] of chunks) {
    const section = GOOGLE_BY_TITLE.get(title) as { key: string; type: GoogleSectionType };
    const indent = new RegExp(`^${S}*`).exec(chunk)?.[0] ?? '';
    if (section.type !== 'multiple') {
      googleEntry(ret, cleandoc(chunk), section.key, section.type);
      continue;
    }
    const entryStarts = [...chunk.matchAll(new RegExp(`${LINE_START}${escapeRegex(indent)}(?=${NS})`, 'g'))];
    if (entryStarts.length === 0) throw new DocstringParseError(`No specification for "${title}": "${chunk}"`);
    entryStarts.forEach((match, j) => {
      const start = (match.index ?? 0) + match[0].length;
      const next = entryStarts[j + 1];
      const end = next ? (next.index ?? 0) : chunk.length;
      googleEntry(ret, stripChars(chunk.slice(start, end), '\n'), section.key, section.type);
    });
  }
  return ret;
}

function googleEntry(ret: Draft, text: string, key: string, type: GoogleSectionType): void {
  ret.metaCount += 1;
  if (type === 'singular' || (type === 'singular_or_multiple' && !GOOGLE_MULTIPLE.test(text))) {
    if (PARAM_KEYWORDS.has(key)) throw new DocstringParseError('Expected paramenter name.');
    return;
  }
  if (!text.includes(':')) throw new DocstringParseError(`Expected a colon in '${text}'.`);
  let [before, desc] = splitOnce(text, ':') as [string, string];
  if (before.includes('\n')) {
    const [first, rest] = splitOnce(before, '\n') as [string, string];
    before = first + cleandoc(rest);
  }
  if (desc) {
    if (desc[0] === ' ') desc = desc.slice(1);
    desc = stripChars(joinContinuation(desc), '\n');
  }
  if (!PARAM_KEYWORDS.has(key)) return;
  const typed = GOOGLE_TYPED_ARG.exec(before);
  ret.params.push({ name: typed ? (typed[1] as string) : before, description: desc });
}

// --- NumPy -----------------------------------------------------------------------------------------------------

type NumpyKind = 'param' | 'kv' | 'plain' | 'examples' | 'deprecation';
const NUMPY_SECTIONS: [string, NumpyKind][] = [
  ['Parameters', 'param'],
  ['Params', 'param'],
  ['Arguments', 'param'],
  ['Args', 'param'],
  ['Other Parameters', 'param'],
  ['Other Params', 'param'],
  ['Other Arguments', 'param'],
  ['Other Args', 'param'],
  ['Receives', 'param'],
  ['Receive', 'param'],
  ['Raises', 'kv'],
  ['Raise', 'kv'],
  ['Warns', 'kv'],
  ['Warn', 'kv'],
  ['Attributes', 'param'],
  ['Attribute', 'param'],
  ['Returns', 'kv'],
  ['Return', 'kv'],
  ['Yields', 'kv'],
  ['Yield', 'kv'],
  ['Examples', 'examples'],
  ['Example', 'examples'],
  ['Warnings', 'plain'],
  ['Warning', 'plain'],
  ['See Also', 'plain'],
  ['Related', 'plain'],
  ['Notes', 'plain'],
  ['Note', 'plain'],
  ['References', 'plain'],
  ['Reference', 'plain'],
  ['deprecated', 'deprecation'],
];
const NUMPY_KIND = new Map(NUMPY_SECTIONS);
const NUMPY_TITLES = NUMPY_SECTIONS.map(([title, kind]) =>
  kind === 'deprecation'
    ? `${LINE_START}\\.\\.${S}*(${title})${S}*::`
    : `${LINE_START}(${title})${S}*?\\n${'-'.repeat(title.length)}${S}*${LINE_END}`,
).join('|');
const NUMPY_KEY = new RegExp(`^(?<name>${DOT}*?)(?:${S}*:${S}*(?<type>${DOT}*?))?$`);

function parseNumpy(text: string): Draft {
  const ret = emptyDocstring();
  if (!text) return ret;
  text = cleandoc(text);
  const [descChunk, metaChunk] = splitAtFirst(text, new RegExp(NUMPY_TITLES));
  describe(ret, descChunk);
  const matches = [...metaChunk.matchAll(new RegExp(NUMPY_TITLES, 'g'))];
  matches.forEach((match, j) => {
    const title = match.slice(1).find((g) => g !== undefined) as string;
    const start = (match.index ?? 0) + match[0].length;
    const next = matches[j + 1];
    const body = metaChunk.slice(start, next ? next.index : undefined);
    numpySection(ret, NUMPY_KIND.get(title) as NumpyKind, body);
  });
  return ret;
}

function numpySection(ret: Draft, kind: NumpyKind, body: string): void {
  if (kind === 'plain' || kind === 'deprecation') {
    ret.metaCount += 1;
    return;
  }
  if (kind === 'examples') {
    const lines = splitLinesForExamples(body);
    while (lines.length > 0) {
      while (lines.length > 0 && (lines[0] as string).startsWith('>>>')) lines.shift();
      while (lines.length > 0 && !(lines[0] as string).startsWith('>>>')) lines.shift();
      ret.metaCount += 1;
    }
    return;
  }
  const keys = [...body.matchAll(new RegExp(`${LINE_START}[^${S.slice(1, -1)}]${DOT}*${LINE_END}`, 'g'))];
  keys.forEach((match, j) => {
    ret.metaCount += 1;
    if (kind !== 'param') return;
    const start = (match.index ?? 0) + match[0].length;
    const next = keys[j + 1];
    const value = cleandoc(body.slice(start, next ? next.index : undefined));
    const name = NUMPY_KEY.exec(match[0])?.groups?.name ?? null;
    if (name !== null) ret.params.push({ name, description: strip(value) || null });
  });
}

/** `dedent(text).strip().splitlines()`; only the count of examples matters, so dedent's effect on `>>>` is kept. */
function splitLinesForExamples(text: string): string[] {
  const lines = text.split('\n');
  const indents = lines.filter((l) => strip(l).length > 0).map((l) => /^[ \t]*/.exec(l)?.[0] ?? '');
  let common = indents[0] ?? '';
  for (const indent of indents) while (!indent.startsWith(common)) common = common.slice(0, -1);
  const dedented = lines.map((l) => (strip(l).length > 0 ? l.slice(common.length) : l.replace(/^[ \t]+$/, '')));
  const joined = strip(dedented.join('\n'));
  return splitLines(joined);
}

// --- ReST ------------------------------------------------------------------------------------------------------

function parseRest(text: string): Draft {
  const ret = emptyDocstring();
  if (!text) return ret;
  text = cleandoc(text);
  const [descChunk, metaChunk] = splitAtFirst(text, new RegExp(`${LINE_START}:`));
  describe(ret, descChunk);
  let hasReturns = false;
  let hasRtype = false;
  for (const match of metaChunk.matchAll(
    new RegExp(`(${LINE_START}:[\\s\\S]*?)(?=${LINE_START}:|$(?![\\s\\S]))`, 'g'),
  )) {
    const chunk = match[0];
    if (!chunk) continue;
    const pieces = splitOnce(chunk.replace(/^:+/, ''), ':');
    if (pieces.length < 2) throw new DocstringParseError(`Error parsing meta information near "${chunk}".`);
    const args = splitWhitespace(pieces[0]);
    const desc = joinContinuation(strip(pieces[1] as string));
    const key = args[0];
    if (args.length === 2 && key === 'type') continue;
    if ((args.length === 1 || args.length === 2) && key === 'rtype') {
      hasRtype = true;
      continue;
    }
    // docstring_parser indexes args[0] unguarded: an entry like ":: x" fails the whole parse, not just this style.
    if (key === undefined) throw new Error(`the docstring entry "${strip(chunk)}" has no field name`);
    ret.metaCount += 1;
    if (PARAM_KEYWORDS.has(key)) {
      if (args.length === 3) ret.params.push({ name: args[2] as string, description: desc });
      else if (args.length === 2) ret.params.push({ name: args[1] as string, description: desc });
      else throw new DocstringParseError(`Expected one or two arguments for a ${key} keyword.`);
    } else if (RETURNS_KEYWORDS.has(key) || YIELDS_KEYWORDS.has(key) || RAISES_KEYWORDS.has(key)) {
      if (args.length > 2) throw new DocstringParseError(`Expected one or no arguments for a ${key} keyword.`);
      if (!RAISES_KEYWORDS.has(key)) hasReturns = true;
    }
  }
  if (!hasReturns && hasRtype) ret.metaCount += 1;
  return ret;
}

// --- Epydoc ----------------------------------------------------------------------------------------------------

const EPY_PARAM = /(param|keyword|type)(\s+[_A-z][_A-z0-9]*\??):/;
const EPY_ATTRIBUTE = /(ivar|cvar|var)(\s+[_A-z][_A-z0-9]*\??):/;
const EPY_RAISE = /(raise)(\s+[_A-z][_A-z0-9]*\??)?:/;
const EPY_RETURN = /(return|rtype|yield|ytype):/;
const EPY_META = /([_A-z][_A-z0-9]+)((\s+[_A-z][_A-z0-9]*\??)*):/;
const EPY_RESERVED = new Set(['param', 'ivar', 'cvar', 'var', 'keyword', 'type', 'return', 'rtype', 'yield', 'ytype']);

function parseEpydoc(text: string): Draft {
  const ret = emptyDocstring();
  if (!text) return ret;
  text = cleandoc(text);
  const [descChunk, metaChunk] = splitAtFirst(text, new RegExp(`${LINE_START}@`));
  describe(ret, descChunk);
  const stream: { base: string; key: string; args: string[]; desc: string }[] = [];
  for (const m of metaChunk.matchAll(new RegExp(`(${LINE_START}@[\\s\\S]*?)(?=${LINE_START}@|$(?![\\s\\S]))`, 'g'))) {
    const chunk = m[0];
    if (!chunk) continue;
    const param = pyRe(EPY_PARAM).exec(chunk);
    const attribute = pyRe(EPY_ATTRIBUTE).exec(chunk);
    const raise = pyRe(EPY_RAISE).exec(chunk);
    const ret_ = pyRe(EPY_RETURN).exec(chunk);
    const meta = pyRe(EPY_META).exec(chunk);
    const match = param ?? attribute ?? raise ?? ret_ ?? meta;
    if (!match) throw new DocstringParseError(`Error parsing meta information near "${chunk}".`);
    const key = match[1] as string;
    let base: string;
    let args: string[];
    if (param) [base, args] = ['param', [strip(match[2] as string)]];
    else if (attribute) [base, args] = ['attribute', [strip(match[2] as string)]];
    else if (raise) [base, args] = ['raise', match[2] === undefined ? [] : [strip(match[2])]];
    else if (ret_) [base, args] = ['return', []];
    else {
      base = 'meta';
      args = splitWhitespace(match[2] as string);
      if (EPY_RESERVED.has(key)) throw new DocstringParseError(`Error parsing meta information near "${chunk}".`);
    }
    const desc = joinContinuation(strip(chunk.slice((match.index ?? 0) + match[0].length)));
    stream.push({ base, key, args, desc });
  }

  const info = new Map<string, { description?: string; isGenerator?: boolean }>();
  for (const { base, key, args, desc } of stream) {
    if (base !== 'param' && base !== 'attribute' && base !== 'return') continue;
    const name = args[0] ?? 'return';
    const entry = info.get(name) ?? {};
    info.set(name, entry);
    if (!key.includes('type')) entry.description = desc;
    if (base === 'return') {
      const isGenerator = key === 'ytype' || key === 'yield';
      entry.isGenerator ??= isGenerator;
      if (entry.isGenerator !== isGenerator) {
        throw new DocstringParseError(`Error parsing meta information for "${name}".`);
      }
    }
  }
  const done = new Set<string>();
  for (const { base, args } of stream) {
    if (base === 'param' || base === 'attribute') {
      const name = args[0] as string;
      if (done.has(name)) continue;
      done.add(name);
      ret.params.push({ name, description: info.get(name)?.description ?? null });
    } else if (base === 'return') {
      if (done.has('return')) continue;
      done.add('return');
    }
    ret.metaCount += 1;
  }
  return ret;
}

/** Python's `\s` is wider than the ASCII classes these epydoc patterns were written with; widen them the same way. */
function pyRe(pattern: RegExp): RegExp {
  return new RegExp(pattern.source.replace(/\\s/g, S));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
