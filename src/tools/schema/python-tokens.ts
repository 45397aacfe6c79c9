import { ToolSchemaError } from './errors.js';

/**
 * A tokenizer for Python source that follows CPython's `tokenize` rules closely enough to find statement boundaries,
 * indentation, string literals and brackets exactly: logical lines, implicit joining inside brackets, backslash
 * continuations, tab stops of 8, comments, every string prefix and quote form. It reports the errors CPython's
 * tokenizer reports (unterminated strings, unclosed or mismatched brackets, inconsistent dedents) with their line.
 */
export type TokenType = 'name' | 'number' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'end';

export interface Token {
  type: TokenType;
  text: string;
  line: number;
  /** Offsets into the source, so callers can quote an expression as it was written. */
  start: number;
  end: number;
}

const OPERATORS = [
  '**=',
  '//=',
  '>>=',
  '<<=',
  '...',
  '->',
  ':=',
  '**',
  '//',
  '<<',
  '>>',
  '<=',
  '>=',
  '==',
  '!=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '@=',
];
const SINGLE_OPERATORS = new Set('+-*/%@&|^~<>()[]{},:;.=!'.split(''));
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const NAME_START = /[\p{L}\p{Nl}_]/u;
const NAME_PART = /[\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}_]/u;
const STRING_PREFIX = /^(?:[rR][bBfFtT]?|[bBfFtT][rR]?|[uU])?(?='|")/;
const NUMBER =
  /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.?\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?|\d(?:_?\d)*\.(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?)/;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const indents = [0];
  const brackets: { char: string; line: number }[] = [];
  let pos = 0;
  let line = 1;
  let atLineStart = true;
  const n = source.length;

  const push = (type: TokenType, start: number, end: number, tokenLine = line) =>
    tokens.push({ type, text: source.slice(start, end), line: tokenLine, start, end });

  while (pos < n) {
    if (atLineStart && brackets.length === 0) {
      // Measure the indentation of a new logical line; blank and comment-only lines do not count.
      let column = 0;
      let p = pos;
      while (p < n) {
        const c = source[p];
        if (c === ' ') column += 1;
        else if (c === '\t') column = (Math.floor(column / 8) + 1) * 8;
        else if (c === '\f') column = 0;
        else break;
        p += 1;
      }
      const c = source[p];
      if (p >= n || c === '\n' || c === '\r' || c === '#' || (c === '\\' && isNewlineAt(source, p + 1))) {
        pos = p;
        atLineStart = false;
        if (c === '\\') {
          pos = skipNewline(source, p + 1);
          line += 1;
          atLineStart = true;
        }
        continue;
      }
      const current = indents[indents.length - 1] ?? 0;
      if (column > current) {
        indents.push(column);
        push('indent', pos, p);
      } else if (column < current) {
        while (column < (indents[indents.length - 1] ?? 0)) {
          indents.pop();
          push('dedent', p, p);
        }
        if (column !== indents[indents.length - 1]) {
          throw new ToolSchemaError('syntax', 'unindent does not match any outer indentation level', line);
        }
      }
      pos = p;
      atLineStart = false;
      continue;
    }

    const c = source[pos] ?? '';
    if (c === ' ' || c === '\t' || c === '\f') {
      pos += 1;
      continue;
    }
    if (c === '#') {
      while (pos < n && source[pos] !== '\n' && source[pos] !== '\r') pos += 1;
      continue;
    }
    if (c === '\n' || c === '\r') {
      const last = tokens[tokens.length - 1];
      if (
        brackets.length === 0 &&
        last &&
        last.type !== 'newline' &&
        last.type !== 'indent' &&
        last.type !== 'dedent'
      ) {
        push('newline', pos, pos);
      }
      pos = skipNewline(source, pos);
      line += 1;
      // Inside brackets a newline only joins lines; indentation is measured at the start of a logical line.
      atLineStart = brackets.length === 0;
      continue;
    }
    if (c === '\\') {
      if (!isNewlineAt(source, pos + 1)) {
        throw new ToolSchemaError('syntax', 'unexpected character after line continuation character', line);
      }
      pos = skipNewline(source, pos + 1);
      line += 1;
      continue;
    }

    const rest = source.slice(pos, pos + 3);
    const prefix = STRING_PREFIX.exec(source.slice(pos, pos + 3));
    if (prefix) {
      const start = pos;
      const startLine = line;
      pos += prefix[0].length;
      const quote = source[pos] ?? '';
      const triple = source.startsWith(quote.repeat(3), pos);
      const closing = triple ? quote.repeat(3) : quote;
      pos += closing.length;
      for (;;) {
        if (pos >= n) {
          throw new ToolSchemaError(
            'syntax',
            triple
              ? `unterminated triple-quoted string literal (detected at line ${line})`
              : `unterminated string literal (detected at line ${startLine})`,
            startLine,
          );
        }
        const ch = source[pos];
        if (ch === '\\') {
          // Even in a raw string a backslash keeps the next character from closing the literal.
          if (isNewlineAt(source, pos + 1)) {
            pos = skipNewline(source, pos + 1);
            line += 1;
          } else pos += 2;
          continue;
        }
        if (source.startsWith(closing, pos)) {
          pos += closing.length;
          break;
        }
        if (ch === '\n' || ch === '\r') {
          if (!triple) {
            throw new ToolSchemaError(
              'syntax',
              `unterminated string literal (detected at line ${startLine})`,
              startLine,
            );
          }
          pos = skipNewline(source, pos);
          line += 1;
          continue;
        }
        pos += 1;
      }
      push('string', start, pos, startLine);
      continue;
    }

    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[pos + 1] ?? ''))) {
      const m = NUMBER.exec(source.slice(pos));
      const len = m?.[0].length ?? 1;
      push('number', pos, pos + len);
      pos += len;
      continue;
    }
    if (NAME_START.test(c)) {
      const start = pos;
      pos += c.length;
      while (pos < n && NAME_PART.test(source[pos] ?? '')) pos += 1;
      push('name', start, pos);
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op) {
      push('op', pos, pos + op.length);
      pos += op.length;
      continue;
    }
    if (SINGLE_OPERATORS.has(c)) {
      if (OPENERS[c]) brackets.push({ char: c, line });
      const opener = CLOSERS[c];
      if (opener) {
        const open = brackets.pop();
        if (!open) throw new ToolSchemaError('syntax', `unmatched '${c}'`, line);
        if (open.char !== opener) {
          throw new ToolSchemaError(
            'syntax',
            `closing parenthesis '${c}' does not match opening parenthesis '${open.char}'` +
              (open.line !== line ? ` on line ${open.line}` : ''),
            line,
          );
        }
      }
      push('op', pos, pos + 1);
      pos += 1;
      continue;
    }
    throw new ToolSchemaError('syntax', `invalid character '${c}' (U+${hex(c)})`, line);
  }

  const open = brackets[brackets.length - 1];
  if (open) throw new ToolSchemaError('syntax', `'${open.char}' was never closed`, open.line);
  const last = tokens[tokens.length - 1];
  if (last && last.type !== 'newline' && last.type !== 'dedent' && last.type !== 'indent') push('newline', pos, pos);
  while (indents.length > 1) {
    indents.pop();
    push('dedent', pos, pos);
  }
  push('end', pos, pos);
  return tokens;
}

function isNewlineAt(source: string, pos: number): boolean {
  return source[pos] === '\n' || source[pos] === '\r';
}

function skipNewline(source: string, pos: number): number {
  if (source[pos] === '\r' && source[pos + 1] === '\n') return pos + 2;
  return pos + 1;
}

function hex(c: string): string {
  return (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}
