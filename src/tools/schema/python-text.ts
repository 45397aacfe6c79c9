/**
 * Python's string semantics where they differ from JavaScript's: what counts as whitespace (`str.isspace`, and `\s`
 * in a `str` pattern), `inspect.cleandoc`, `str.expandtabs`, `str.splitlines`, and the line anchors of `re.M`.
 * Docstring parsing is a chain of these, so each must match CPython for descriptions to match Letta's byte for byte.
 */
const WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Regex fragments: Python's `\s`, `\S`, and `^` / `$` under `re.M` (which, unlike JS, only see `\n`). */
export const S = `[${WHITESPACE}]`;
export const NS = `[^${WHITESPACE}]`;
export const LINE_START = '(?<![^\\n])';
export const LINE_END = '(?![^\\n])';
/** Python's `.` without DOTALL: anything but `\n` (JS's `.` also refuses `\r` and the Unicode separators). */
export const DOT = '[^\\n]';

const LEADING = new RegExp(`^${S}+`);
const TRAILING = new RegExp(`${S}+$`);

export const strip = (s: string): string => s.replace(LEADING, '').replace(TRAILING, '');
export const lstrip = (s: string): string => s.replace(LEADING, '');

/** `str.strip(chars)` for a set of plain characters. */
export function stripChars(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a] as string)) a += 1;
  while (b > a && chars.includes(s[b - 1] as string)) b -= 1;
  return s.slice(a, b);
}

/** `str.split()` with no separator: runs of whitespace, no empty items. */
export function splitWhitespace(s: string): string[] {
  return strip(s)
    .split(new RegExp(`${S}+`))
    .filter((part) => part.length > 0);
}

/** `str.split(sep, 1)`. */
export function splitOnce(s: string, sep: string): [string] | [string, string] {
  const at = s.indexOf(sep);
  return at < 0 ? [s] : [s.slice(0, at), s.slice(at + sep.length)];
}

export function expandTabs(s: string, size = 8): string {
  let out = '';
  let column = 0;
  for (const c of s) {
    if (c === '\t') {
      const spaces = size - (column % size);
      out += ' '.repeat(spaces);
      column += spaces;
    } else {
      out += c;
      column = c === '\n' || c === '\r' ? 0 : column + 1;
    }
  }
  return out;
}

/** `inspect.cleandoc` as of CPython 3.11–3.12 (the versions Letta runs on). */
export function cleandoc(doc: string): string {
  const lines = expandTabs(doc).split('\n');
  let margin = Infinity;
  for (const line of lines.slice(1)) {
    const content = lstrip(line).length;
    if (content > 0) margin = Math.min(margin, line.length - content);
  }
  if (lines.length > 0) lines[0] = lstrip(lines[0] as string);
  if (margin < Infinity) for (let i = 1; i < lines.length; i += 1) lines[i] = (lines[i] as string).slice(margin);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  while (lines.length > 0 && lines[0] === '') lines.shift();
  return lines.join('\n');
}

/** `str.splitlines()`: every line boundary Python knows, and no empty item after a final one. */
// Python's line boundaries include the file, group and record separators (U+001C–U+001E).
// eslint-disable-next-line no-control-regex
const LINE_BOUNDARY = new RegExp('\\r\\n|[\\n\\r\\v\\f\\x1c\\x1d\\x1e\\x85\\u2028\\u2029]');

export function splitLines(s: string): string[] {
  const parts = s.split(LINE_BOUNDARY);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
