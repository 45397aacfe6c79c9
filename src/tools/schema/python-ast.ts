import { ToolSchemaError } from './errors.js';
import { tokenize, type Token } from './python-tokens.js';

/** The expression forms a tool's annotations and defaults use; anything else is kept as `other`, unevaluated. */
export type PyExpr =
  | { k: 'name'; id: string }
  | { k: 'attr'; value: PyExpr; attr: string }
  | { k: 'sub'; value: PyExpr; slice: PyExpr }
  | { k: 'tuple' | 'list' | 'set'; elts: PyExpr[] }
  | { k: 'dict'; keys: PyExpr[]; values: PyExpr[] }
  | { k: 'const'; kind: 'str' | 'bytes' | 'int' | 'float' | 'complex' | 'bool' | 'none' | 'ellipsis'; value: unknown }
  | { k: 'unary'; op: string; operand: PyExpr }
  | { k: 'binop'; op: string; left: PyExpr; right: PyExpr }
  | { k: 'call'; func: PyExpr; args: PyExpr[]; keywords: { name: string; value: PyExpr }[] }
  | { k: 'other' };

export interface Written<T> {
  node: T;
  /** The expression as it appears in the source, for messages. */
  text: string;
  line: number;
}

export interface PyParam {
  name: string;
  kind: 'positional_only' | 'positional_or_keyword' | 'var_positional' | 'keyword_only' | 'var_keyword';
  annotation: Written<PyExpr> | null;
  default: Written<PyExpr> | null;
  line: number;
}

export interface PyFunction {
  name: string;
  isAsync: boolean;
  params: PyParam[];
  docstring: string | null;
  line: number;
}

export interface PyClassField {
  name: string;
  annotation: Written<PyExpr>;
  value: Written<PyExpr> | null;
  line: number;
}

export interface PyClass {
  name: string;
  bases: PyExpr[];
  fields: PyClassField[];
  /** Plain `NAME = value` lines of the body: an Enum's members. */
  assignments: { name: string; value: Written<PyExpr> }[];
  docstring: string | null;
  line: number;
}

export interface PyImport {
  /** `from X import …`: X; `import X`: null. */
  module: string | null;
  names: string[];
}

/** What a static read of a module yields: its top-level functions, classes and imports, in source order. */
export interface PyModule {
  functions: PyFunction[];
  classes: PyClass[];
  imports: PyImport[];
}

class ParseFailure extends Error {}

export function parseModule(rawSource: string): PyModule {
  // Python reads source with universal newlines, so string literals never contain a carriage return from the file.
  const source = rawSource.replace(/\r\n?/g, '\n');
  const tokens = tokenize(source);
  return new ModuleParser(source, tokens).parse();
}

class ModuleParser {
  private i = 0;
  private readonly module: PyModule = { functions: [], classes: [], imports: [] };

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): PyModule {
    while (this.peek().type !== 'end') {
      if (this.peek().type === 'indent') throw new ToolSchemaError('syntax', 'unexpected indent', this.peek().line);
      if (this.peek().type === 'dedent' || this.peek().type === 'newline') {
        this.i += 1;
        continue;
      }
      this.statement();
    }
    return this.module;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }

  private isOp(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'op' && t.text === text;
  }

  private isName(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'name' && t.text === text;
  }

  private expectOp(text: string): Token {
    const t = this.peek();
    if (t.type !== 'op' || t.text !== text) throw new ToolSchemaError('syntax', 'invalid syntax', t.line);
    this.i += 1;
    return t;
  }

  private statement(): void {
    if (this.isOp('@')) {
      this.skipLine();
      return;
    }
    if (this.isName('def') || (this.isName('async') && this.isName('def', 1))) {
      this.module.functions.push(this.functionDef());
      return;
    }
    if (this.isName('class')) {
      const cls = this.classDef();
      if (cls) this.module.classes.push(cls);
      return;
    }
    if (this.isName('import') || this.isName('from')) {
      this.module.imports.push(this.importStatement());
      return;
    }
    this.skipStatement();
  }

  /** Skips one logical line, and the indented block after it when the line opens one. */
  private skipStatement(): void {
    this.skipLine();
    if (this.peek().type === 'indent') this.skipBlock();
  }

  private skipLine(): void {
    while (this.peek().type !== 'newline' && this.peek().type !== 'end') this.i += 1;
    if (this.peek().type === 'newline') this.i += 1;
  }

  /** At an indent token: skips to just past its matching dedent. */
  private skipBlock(): void {
    let depth = 0;
    do {
      const t = this.peek();
      if (t.type === 'indent') depth += 1;
      else if (t.type === 'dedent') depth -= 1;
      else if (t.type === 'end') return;
      this.i += 1;
    } while (depth > 0);
  }

  private importStatement(): PyImport {
    const names: string[] = [];
    let module: string | null = null;
    if (this.isName('from')) {
      this.i += 1;
      let dotted = '';
      while (!this.isName('import') && this.peek().type !== 'newline' && this.peek().type !== 'end') {
        dotted += this.peek().text;
        this.i += 1;
      }
      module = dotted;
    }
    this.i += 1;
    while (this.peek().type !== 'newline' && this.peek().type !== 'end') {
      const t = this.peek();
      if (t.type === 'name' && t.text !== 'as') {
        let dotted = t.text;
        this.i += 1;
        while (this.isOp('.') && this.peek(1).type === 'name') {
          dotted += '.' + this.peek(1).text;
          this.i += 2;
        }
        names.push(dotted);
        if (this.isName('as')) this.i += 2;
        continue;
      }
      this.i += 1;
    }
    this.skipLine();
    return { module, names };
  }

  private functionDef(): PyFunction {
    const isAsync = this.isName('async');
    if (isAsync) this.i += 1;
    const defToken = this.peek();
    this.i += 1;
    const nameToken = this.peek();
    if (nameToken.type !== 'name') throw new ToolSchemaError('syntax', 'invalid syntax', nameToken.line);
    this.i += 1;
    this.expectOp('(');
    const close = this.matching(this.i - 1);
    const params = this.parameters(this.i, close);
    this.i = close + 1;
    if (this.isOp('->')) {
      this.i += 1;
      this.i = this.findAtDepthZero(this.i, (t) => t.type === 'op' && t.text === ':');
    }
    this.expectOp(':');
    const docstring = this.suite().docstring;
    return { name: nameToken.text, isAsync, params, docstring, line: defToken.line };
  }

  private classDef(): PyClass | null {
    const classToken = this.peek();
    this.i += 1;
    const nameToken = this.peek();
    if (nameToken.type !== 'name') throw new ToolSchemaError('syntax', 'invalid syntax', nameToken.line);
    this.i += 1;
    const bases: PyExpr[] = [];
    if (this.isOp('(')) {
      const close = this.matching(this.i);
      for (const [from, to] of this.splitAtCommas(this.i + 1, close)) {
        bases.push(this.expression(from, to).node);
      }
      this.i = close + 1;
    }
    this.expectOp(':');
    const { docstring, fields, assignments } = this.suite();
    return { name: nameToken.text, bases, fields, assignments, docstring, line: classToken.line };
  }

  /** Reads a block (or a one-line body): its docstring, and the `name: annotation = value` lines of a class body. */
  private suite(): Pick<PyClass, 'docstring' | 'fields' | 'assignments'> {
    const fields: PyClassField[] = [];
    const assignments: PyClass['assignments'] = [];
    if (this.peek().type !== 'newline') {
      const docstring = this.docstringAt(this.i);
      this.skipLine();
      return { docstring, fields, assignments };
    }
    this.i += 1;
    if (this.peek().type !== 'indent') {
      throw new ToolSchemaError('syntax', 'expected an indented block', this.peek().line);
    }
    this.i += 1;
    const docstring = this.docstringAt(this.i);
    while (this.peek().type !== 'dedent' && this.peek().type !== 'end') {
      const t = this.peek();
      if (t.type === 'newline') {
        this.i += 1;
        continue;
      }
      if (t.type === 'name' && this.isOp(':', 1)) {
        fields.push(this.annotatedAssignment());
        continue;
      }
      if (t.type === 'name' && this.isOp('=', 1)) {
        const lineEnd = this.findAtDepthZero(this.i, (token) => token.type === 'newline');
        assignments.push({ name: t.text, value: this.expression(this.i + 2, lineEnd) });
        this.i = lineEnd;
      }
      this.skipStatement();
    }
    if (this.peek().type === 'dedent') this.i += 1;
    return { docstring, fields, assignments };
  }

  private annotatedAssignment(): PyClassField {
    const nameToken = this.peek();
    const lineEnd = this.findAtDepthZero(this.i, (t) => t.type === 'newline');
    const eq = this.findAtDepthZero(this.i + 2, (t) => t.type === 'op' && t.text === '=', lineEnd);
    const annotation = this.expression(this.i + 2, Math.min(eq, lineEnd));
    const value = eq < lineEnd ? this.expression(eq + 1, lineEnd) : null;
    this.i = lineEnd;
    this.skipLine();
    return { name: nameToken.text, annotation, value, line: nameToken.line };
  }

  /** A body's docstring: a first statement made only of (implicitly concatenated) plain string literals. */
  private docstringAt(index: number): string | null {
    let j = index;
    const parts: string[] = [];
    while (this.tokens[j]?.type === 'string') {
      const literal = decodeStringLiteral((this.tokens[j] as Token).text);
      if (literal.kind !== 'str') return null;
      parts.push(literal.value);
      j += 1;
    }
    const after = this.tokens[j];
    if (parts.length === 0 || !after) return null;
    if (after.type === 'newline' || (after.type === 'op' && after.text === ';')) return parts.join('');
    return null;
  }

  private parameters(from: number, to: number): PyParam[] {
    const params: PyParam[] = [];
    let kind: PyParam['kind'] = 'positional_or_keyword';
    const spans = this.splitAtCommas(from, to);
    // Parameters written before a `/` are positional-only; `/` comes after them, so look ahead for it.
    const slash = spans.findIndex(([a, b]) => b - a === 1 && this.tokens[a]?.text === '/');
    spans.forEach(([a, b], index) => {
      const first = this.tokens[a] as Token;
      if (first.type === 'op' && first.text === '/') {
        kind = 'positional_or_keyword';
        return;
      }
      if (first.type === 'op' && first.text === '*' && b - a === 1) {
        kind = 'keyword_only';
        return;
      }
      let paramKind: PyParam['kind'] = index < slash ? 'positional_only' : kind;
      let nameIndex = a;
      if (first.type === 'op' && (first.text === '*' || first.text === '**')) {
        paramKind = first.text === '*' ? 'var_positional' : 'var_keyword';
        if (first.text === '*') kind = 'keyword_only';
        nameIndex = a + 1;
      }
      const nameToken = this.tokens[nameIndex];
      if (!nameToken || nameToken.type !== 'name') {
        throw new ToolSchemaError('syntax', 'invalid syntax', first.line);
      }
      const eq = this.findAtDepthZero(nameIndex + 1, (t) => t.type === 'op' && t.text === '=', b);
      const hasAnnotation = this.tokens[nameIndex + 1]?.type === 'op' && this.tokens[nameIndex + 1]?.text === ':';
      params.push({
        name: nameToken.text,
        kind: paramKind,
        annotation: hasAnnotation && nameIndex + 1 < b ? this.expression(nameIndex + 2, Math.min(eq, b)) : null,
        default: eq < b ? this.expression(eq + 1, b) : null,
        line: nameToken.line,
      });
    });
    return params;
  }

  /** Index of the bracket closing the one at `open`. */
  private matching(open: number): number {
    let depth = 0;
    for (let j = open; j < this.tokens.length; j += 1) {
      const t = this.tokens[j] as Token;
      if (t.type !== 'op') continue;
      if (t.text === '(' || t.text === '[' || t.text === '{') depth += 1;
      else if (t.text === ')' || t.text === ']' || t.text === '}') {
        depth -= 1;
        if (depth === 0) return j;
      }
    }
    throw new ToolSchemaError('syntax', 'invalid syntax', this.tokens[open]?.line ?? null);
  }

  private findAtDepthZero(from: number, stop: (t: Token) => boolean, limit = this.tokens.length): number {
    let depth = 0;
    for (let j = from; j < limit; j += 1) {
      const t = this.tokens[j] as Token;
      if (depth === 0 && stop(t)) return j;
      if (t.type === 'op') {
        if (t.text === '(' || t.text === '[' || t.text === '{') depth += 1;
        else if (t.text === ')' || t.text === ']' || t.text === '}') depth -= 1;
      }
      if (t.type === 'end') return j;
    }
    return limit;
  }

  private splitAtCommas(from: number, to: number): [number, number][] {
    const spans: [number, number][] = [];
    let start = from;
    while (start < to) {
      const comma = this.findAtDepthZero(start, (t) => t.type === 'op' && t.text === ',', to);
      if (comma > start) spans.push([start, comma]);
      start = comma + 1;
    }
    return spans;
  }

  private expression(from: number, to: number): Written<PyExpr> {
    const first = this.tokens[from];
    const last = this.tokens[to - 1];
    const text = first && last && to > from ? this.source.slice(first.start, last.end) : '';
    const line = first?.line ?? 0;
    if (to <= from) return { node: { k: 'other' }, text, line };
    try {
      const parser = new ExpressionParser(this.tokens, from, to);
      return { node: parser.parseAll(), text, line };
    } catch (error) {
      if (error instanceof ParseFailure) return { node: { k: 'other' }, text, line };
      throw error;
    }
  }
}

/** Recursive descent over one expression's tokens; it must consume them all or the expression stays `other`. */
class ExpressionParser {
  constructor(
    private readonly tokens: Token[],
    private i: number,
    private readonly end: number,
  ) {}

  parseAll(): PyExpr {
    const node = this.testList();
    if (this.i !== this.end) throw new ParseFailure();
    return node;
  }

  private peek(): Token | null {
    return this.i < this.end ? (this.tokens[this.i] as Token) : null;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t !== null && t.type === 'op' && t.text === text;
  }

  private isKeyword(text: string): boolean {
    const t = this.peek();
    return t !== null && t.type === 'name' && t.text === text;
  }

  private eatOp(text: string): void {
    if (!this.isOp(text)) throw new ParseFailure();
    this.i += 1;
  }

  /** `a, b` at the top of an expression is a tuple, as in `x = 1, 2`. */
  private testList(): PyExpr {
    const first = this.test();
    if (!this.isOp(',')) return first;
    const elts = [first];
    while (this.isOp(',')) {
      this.i += 1;
      if (this.peek() === null) break;
      elts.push(this.test());
    }
    return { k: 'tuple', elts };
  }

  private test(): PyExpr {
    if (this.isKeyword('lambda')) throw new ParseFailure();
    const node = this.orTest();
    if (this.isKeyword('if')) throw new ParseFailure();
    return node;
  }

  private orTest(): PyExpr {
    const node = this.notTest();
    if (this.isKeyword('or') || this.isKeyword('and')) throw new ParseFailure();
    return node;
  }

  private notTest(): PyExpr {
    if (this.isKeyword('not')) throw new ParseFailure();
    const node = this.binary(0);
    const t = this.peek();
    if (
      t &&
      ((t.type === 'op' && /^(<|>|==|>=|<=|!=)$/.test(t.text)) || (t.type === 'name' && /^(in|is|not)$/.test(t.text)))
    ) {
      throw new ParseFailure();
    }
    return node;
  }

  private static readonly LEVELS = [['|'], ['^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '//', '%', '@']];

  private binary(level: number): PyExpr {
    if (level >= ExpressionParser.LEVELS.length) return this.factor();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (!t || t.type !== 'op' || !(ExpressionParser.LEVELS[level] as string[]).includes(t.text)) return left;
      this.i += 1;
      const right = this.binary(level + 1);
      left = { k: 'binop', op: t.text, left, right };
    }
  }

  private factor(): PyExpr {
    const t = this.peek();
    if (t && t.type === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      this.i += 1;
      return { k: 'unary', op: t.text, operand: this.factor() };
    }
    const base = this.primary();
    if (this.isOp('**')) {
      this.i += 1;
      return { k: 'binop', op: '**', left: base, right: this.factor() };
    }
    return base;
  }

  private primary(): PyExpr {
    if (this.isKeyword('await')) throw new ParseFailure();
    let node = this.atom();
    for (;;) {
      if (this.isOp('.')) {
        this.i += 1;
        const name = this.peek();
        if (!name || name.type !== 'name') throw new ParseFailure();
        this.i += 1;
        node = { k: 'attr', value: node, attr: name.text };
      } else if (this.isOp('[')) {
        this.i += 1;
        const elts: PyExpr[] = [];
        let trailingComma = false;
        while (!this.isOp(']')) {
          elts.push(this.test());
          if (this.isOp(':')) throw new ParseFailure();
          trailingComma = this.isOp(',');
          if (trailingComma) this.i += 1;
          else break;
        }
        this.eatOp(']');
        if (elts.length === 0) throw new ParseFailure();
        const slice: PyExpr = elts.length === 1 && !trailingComma ? (elts[0] as PyExpr) : { k: 'tuple', elts };
        node = { k: 'sub', value: node, slice };
      } else if (this.isOp('(')) {
        this.i += 1;
        const args: PyExpr[] = [];
        const keywords: { name: string; value: PyExpr }[] = [];
        while (!this.isOp(')')) {
          const t = this.peek();
          const next = this.tokens[this.i + 1];
          if (t && t.type === 'name' && next && next.type === 'op' && next.text === '=' && this.i + 1 < this.end) {
            this.i += 2;
            keywords.push({ name: t.text, value: this.test() });
          } else {
            if (this.isOp('*') || this.isOp('**')) throw new ParseFailure();
            args.push(this.test());
            if (this.isKeyword('for')) throw new ParseFailure();
          }
          if (this.isOp(',')) this.i += 1;
          else break;
        }
        this.eatOp(')');
        node = { k: 'call', func: node, args, keywords };
      } else return node;
    }
  }

  private atom(): PyExpr {
    const t = this.peek();
    if (!t) throw new ParseFailure();
    if (t.type === 'name') {
      this.i += 1;
      if (t.text === 'None') return { k: 'const', kind: 'none', value: null };
      if (t.text === 'True' || t.text === 'False') return { k: 'const', kind: 'bool', value: t.text === 'True' };
      return { k: 'name', id: t.text };
    }
    if (t.type === 'number') {
      this.i += 1;
      return numberLiteral(t.text);
    }
    if (t.type === 'string') {
      let kind: 'str' | 'bytes' | null = null;
      let value = '';
      while (this.peek()?.type === 'string') {
        const literal = decodeStringLiteral((this.peek() as Token).text);
        // An f-string is not a constant, and str and bytes literals cannot be concatenated.
        if (literal.kind === 'fstring' || (kind !== null && kind !== literal.kind)) throw new ParseFailure();
        kind = literal.kind;
        value += literal.value;
        this.i += 1;
      }
      return { k: 'const', kind: kind ?? 'str', value };
    }
    if (t.type === 'op' && t.text === '...') {
      this.i += 1;
      return { k: 'const', kind: 'ellipsis', value: '...' };
    }
    if (t.type === 'op' && (t.text === '(' || t.text === '[' || t.text === '{')) {
      const close = t.text === '(' ? ')' : t.text === '[' ? ']' : '}';
      this.i += 1;
      if (t.text === '{') return this.braces();
      const elts: PyExpr[] = [];
      let trailingComma = false;
      while (!this.isOp(close)) {
        elts.push(this.test());
        if (this.isKeyword('for')) throw new ParseFailure();
        trailingComma = this.isOp(',');
        if (trailingComma) this.i += 1;
        else break;
      }
      this.eatOp(close);
      if (t.text === '[') return { k: 'list', elts };
      if (elts.length === 1 && !trailingComma) return elts[0] as PyExpr;
      return { k: 'tuple', elts };
    }
    throw new ParseFailure();
  }

  private braces(): PyExpr {
    const keys: PyExpr[] = [];
    const values: PyExpr[] = [];
    const elts: PyExpr[] = [];
    while (!this.isOp('}')) {
      const item = this.test();
      if (this.isOp(':')) {
        this.i += 1;
        keys.push(item);
        values.push(this.test());
      } else elts.push(item);
      if (this.isKeyword('for')) throw new ParseFailure();
      if (this.isOp(',')) this.i += 1;
      else break;
    }
    this.eatOp('}');
    if (elts.length > 0 && keys.length > 0) throw new ParseFailure();
    return elts.length > 0 ? { k: 'set', elts } : { k: 'dict', keys, values };
  }
}

function numberLiteral(text: string): PyExpr {
  const clean = text.replace(/_/g, '');
  if (/[jJ]$/.test(clean)) return { k: 'const', kind: 'complex', value: clean };
  if (/^0[xXoObB]/.test(clean)) return { k: 'const', kind: 'int', value: Number(clean.toLowerCase()) };
  if (/[.eE]/.test(clean)) return { k: 'const', kind: 'float', value: Number(clean) };
  return { k: 'const', kind: 'int', value: Number(clean) };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** The value of one string token, as CPython computes it (escapes, raw strings, line continuations). */
export function decodeStringLiteral(token: string): { kind: 'str' | 'bytes' | 'fstring'; value: string } {
  const prefixMatch = /^[A-Za-z]*/.exec(token);
  const prefix = (prefixMatch?.[0] ?? '').toLowerCase();
  const body = token.slice(prefix.length);
  const quoteLength = body.startsWith('"""') || body.startsWith("'''") ? 3 : 1;
  const inner = body.slice(quoteLength, body.length - quoteLength);
  const kind = prefix.includes('f') || prefix.includes('t') ? 'fstring' : prefix.includes('b') ? 'bytes' : 'str';
  if (prefix.includes('r')) return { kind, value: inner };
  let value = '';
  for (let j = 0; j < inner.length; j += 1) {
    const c = inner[j] as string;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = inner[j + 1] ?? '';
    j += 1;
    if (next === '\n') continue;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      value += simple;
      continue;
    }
    if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(inner.slice(j))?.[0] ?? next;
      value += String.fromCodePoint(parseInt(octal, 8));
      j += octal.length - 1;
      continue;
    }
    const width = next === 'x' ? 2 : kind === 'str' && next === 'u' ? 4 : kind === 'str' && next === 'U' ? 8 : 0;
    if (width > 0) {
      const digits = inner.slice(j + 1, j + 1 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits)) {
        throw new ToolSchemaError('syntax', `(unicode error) truncated \\${next} escape`);
      }
      value += String.fromCodePoint(parseInt(digits, 16));
      j += width;
      continue;
    }
    // Unknown escapes (and \N{...}, whose names this reader does not resolve) keep their backslash.
    value += '\\' + next;
  }
  return { kind, value };
}
