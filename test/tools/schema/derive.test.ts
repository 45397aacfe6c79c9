import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveToolSchema, ToolSchemaError } from '../../../src/tools/schema/index.js';

/**
 * The table: one Python tool per fixture, and what deriving its schema must give. Every expected schema was checked
 * against Letta's own `derive_openai_json_schema` run on the same source (Letta 0.x archive, docstring_parser 0.18,
 * pydantic 2): equal, key order included, except the fixtures whose `divergesFromLetta` says where and why.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures');
const cases = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.py'))
  .sort()
  .map((file) => ({
    file,
    source: readFileSync(join(FIXTURES, file), 'utf8'),
    expected: JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.py$/, '.json')), 'utf8')) as {
      schema?: Record<string, unknown>;
      error?: { kind: string; line: number | null; argument: string | null; message: string };
    },
  }));

function derive(source: string): { schema?: unknown; error?: unknown } {
  try {
    return { schema: deriveToolSchema({ sourceCode: source }).jsonSchema };
  } catch (error) {
    if (!(error instanceof ToolSchemaError)) throw error;
    return { error: { kind: error.kind, line: error.line, argument: error.argument, message: error.message } };
  }
}

describe('schema derivation from Python source', () => {
  it('has at least 30 docstring shapes in its table', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$file', ({ source, expected }) => {
    const got = derive(source);
    if (expected.schema) {
      // Compared as text too: Letta's key order is what clients see in json_schema.
      expect(JSON.stringify(got.schema)).toBe(JSON.stringify(expected.schema));
    } else expect(got).toEqual({ error: expected.error });
  });

  it('names the tool and describes it from the schema', () => {
    const derived = deriveToolSchema({ sourceCode: readFileSync(join(FIXTURES, '11_long_description.py'), 'utf8') });
    expect(derived.name).toBe('summarize');
    expect(derived.description).toBe((derived.jsonSchema as { description: string }).description);
  });

  it('never executes the source', () => {
    // A module-level side effect would throw if anything ran it; a static read only sees a call expression.
    const source = [
      'raise SystemExit("executed")',
      'def safe(x: int) -> int:',
      '    """Return x.',
      '',
      '    Args:',
      '        x (int): A number.',
      '    """',
      '    return x',
    ].join('\n');
    expect(deriveToolSchema({ sourceCode: source }).name).toBe('safe');
  });

  it('takes an explicit json_schema as it is, for any source type', () => {
    const jsonSchema = {
      name: 'add',
      description: 'Add.',
      parameters: { type: 'object', properties: {}, required: [] },
    };
    for (const sourceType of ['python', 'typescript', 'javascript']) {
      expect(deriveToolSchema({ sourceCode: 'export function add() {}', sourceType, jsonSchema })).toEqual({
        name: 'add',
        description: 'Add.',
        jsonSchema,
      });
    }
    expect(() => deriveToolSchema({ sourceCode: '', jsonSchema: { description: 'no name' } })).toThrow(
      /json_schema must have a non-empty string 'name'/,
    );
  });

  it('asks TypeScript and JavaScript tools for an explicit json_schema, as Letta does', () => {
    for (const sourceType of ['typescript', 'javascript']) {
      let caught: unknown;
      try {
        deriveToolSchema({ sourceCode: 'export function add(a: number) { return a; }', sourceType });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ToolSchemaError);
      expect((caught as ToolSchemaError).kind).toBe('schema_required');
      expect((caught as ToolSchemaError).message).toMatch(/require an explicit json_schema parameter/);
    }
    expect(() => deriveToolSchema({ sourceCode: 'x', sourceType: 'ruby' })).toThrow(/Unknown tool source type: ruby/);
  });

  it('builds the schema from args_json_schema with the whole docstring as description', () => {
    const source = 'def lookup(city, units):\n    """\n    Look up the weather.\n\n    Uses the cache.\n    """\n';
    const derived = deriveToolSchema({
      sourceCode: source,
      argsJsonSchema: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'The city.' },
          units: { type: 'string' },
          days: { type: 'array', items: { type: 'integer' }, description: 'Days ahead.' },
        },
        required: ['city'],
      },
    });
    expect(derived.jsonSchema).toEqual({
      name: 'lookup',
      description: 'Look up the weather.\n\nUses the cache.',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'The city.' },
          units: { type: 'string', description: null },
          days: { type: 'array', items: { type: 'integer' }, description: 'Days ahead.' },
        },
        required: ['city'],
      },
    });
    const undocumented = deriveToolSchema({ sourceCode: 'def f(x): pass', argsJsonSchema: { properties: {} } });
    expect(undocumented.description).toBe('The f tool');
  });

  it('reports syntax errors with their line, as CPython words them', () => {
    const cases: [string, RegExp][] = [
      ['def f(x: int:\n    pass\n', /^line 1: /],
      ['def f():\n    """doc\n', /^line 2: unterminated triple-quoted string literal/],
      ['def f(]:\n  pass', /^line 1: closing parenthesis '\]' does not match opening parenthesis '\('/],
      ['  def f():\n    pass', /^line 1: unexpected indent/],
    ];
    for (const [source, message] of cases) {
      let caught: unknown;
      try {
        deriveToolSchema({ sourceCode: source });
      } catch (error) {
        caught = error;
      }
      expect(caught, source).toBeInstanceOf(ToolSchemaError);
      expect((caught as ToolSchemaError).kind).toBe('syntax');
      expect((caught as Error).message).toMatch(message);
    }
  });

  it('reads model fields without a description as an error on the field', () => {
    const source = [
      'from pydantic import BaseModel, Field',
      'class Item(BaseModel):',
      '    name: str = Field(..., description="The name.")',
      '    count: int = 3',
      'def add(item: Item) -> str:',
      '    """Add an item.',
      '',
      '    Args:',
      '        item (Item): The item.',
      '    """',
    ].join('\n');
    expect(derive(source)).toEqual({
      error: {
        kind: 'missing_description',
        line: 4,
        argument: 'count',
        message: `line 4: field 'count' of model 'Item' has no description (give it Field(..., description="…"))`,
      },
    });
  });
});
