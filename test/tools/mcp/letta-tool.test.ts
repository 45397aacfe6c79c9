import { describe, expect, it } from 'vitest';
import {
  diffMcpTools,
  executionResult,
  lettaToolFromMcp,
  listedTool,
  mcpJsonSchema,
  normalizeMcpSchema,
  resyncSummary,
  sameJson,
  schemaHealth,
  wireExecutionResult,
} from '../../../src/tools/mcp/letta-tool.js';

const server = { id: 'mcp_server-00000000-0000-4000-8000-000000000001', name: 'srv' };
const sdkTool = (name: string, inputSchema: Record<string, unknown>, description = `${name} tool`) => ({
  name,
  description,
  inputSchema: inputSchema as { type: 'object' },
});

describe('schema health (Letta validate_complete_json_schema)', () => {
  it.each([
    [
      'strict object',
      { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false },
      'STRICT_COMPLIANT',
      [],
    ],
    [
      'no additionalProperties',
      { type: 'object', properties: {} },
      'NON_STRICT_ONLY',
      ["root: 'additionalProperties' not explicitly set"],
    ],
    [
      'free-form object',
      { type: 'object', properties: {}, additionalProperties: true },
      'NON_STRICT_ONLY',
      ["root: 'additionalProperties' is not false (free-form object)"],
    ],
    [
      'required but missing',
      { type: 'object', properties: { a: { type: 'string' } }, required: ['b'], additionalProperties: false },
      'INVALID',
      ["root: required contains 'b' not found in properties"],
    ],
    [
      'array without items',
      { type: 'object', properties: { a: { type: 'array' } }, required: ['a'], additionalProperties: false },
      'INVALID',
      [
        "root: required property 'a' allows empty array (OpenAI will reject)",
        "root.properties.a: 'items' must be defined for arrays in strict mode",
      ],
    ],
    [
      'required empty object',
      {
        type: 'object',
        properties: { o: { type: 'object', properties: {}, additionalProperties: false } },
        required: ['o'],
        additionalProperties: false,
      },
      'INVALID',
      ["root: required property 'o' allows empty object (OpenAI will reject)"],
    ],
    [
      'missing type',
      { type: 'object', properties: { a: { description: 'untyped' } }, additionalProperties: false },
      'INVALID',
      ["root.properties.a: Missing 'type'"],
    ],
    [
      'top level not object',
      { type: 'string' },
      'INVALID',
      ["Top-level schema 'type' must be 'object' for OpenAI tools"],
    ],
    [
      'type arrays and anyOf are fine',
      {
        type: 'object',
        properties: { a: { type: ['string', 'null'] }, b: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
        additionalProperties: false,
      },
      'STRICT_COMPLIANT',
      [],
    ],
  ])('%s', (_name, schema, status, reasons) => {
    expect(schemaHealth(schema)).toEqual({ status, reasons });
  });
});

describe('schema normalization and conversion', () => {
  it('adds additionalProperties:false to objects and types to $refs, recursively, without touching the input', () => {
    const input = {
      type: 'object',
      $defs: {
        Item: { type: 'object', properties: { id: { type: 'string' } } },
        Color: { type: 'string', enum: ['r'] },
      },
      properties: {
        item: { $ref: '#/$defs/Item' },
        color: { $ref: '#/$defs/Color' },
        list: { type: 'array', items: { $ref: '#/$defs/Item' } },
        either: { anyOf: [{ $ref: '#/$defs/Item' }, { type: 'null' }] },
        inner: { type: 'object', properties: { deep: { type: 'object', properties: {} } } },
      },
    };
    const copy = structuredClone(input);
    const out = normalizeMcpSchema(input);
    expect(input).toEqual(copy);
    expect(out).toMatchObject({
      additionalProperties: false,
      $defs: { Item: { additionalProperties: false } },
      properties: {
        item: { $ref: '#/$defs/Item', type: 'object' },
        color: { $ref: '#/$defs/Color', type: 'string' },
        list: { items: { $ref: '#/$defs/Item', type: 'object' } },
        either: { anyOf: [{ $ref: '#/$defs/Item', type: 'object' }, { type: 'null' }] },
        inner: { additionalProperties: false, properties: { deep: { additionalProperties: false } } },
      },
    });
    // A $ref property gets no additionalProperties of its own: its definition carries it.
    expect((out.properties as Record<string, object>).item).not.toHaveProperty('additionalProperties');
  });

  it('renders the Letta json_schema: defaults, inlined refs, merged anyOf duplicates, heartbeat', () => {
    const listed = listedTool(
      sdkTool('search', {
        type: 'object',
        $schema: 'http://json-schema.org/draft-07/schema#',
        $defs: { When: { type: 'string', format: 'date-time' } },
        properties: {
          query: { type: 'string' },
          when: { anyOf: [{ $ref: '#/$defs/When' }, { type: 'string' }, { type: 'null' }, { type: 'null' }] },
        },
        required: ['query'],
      }),
    );
    const schema = mcpJsonSchema(listed);
    expect(schema).toEqual({
      name: 'search',
      description: 'search tool',
      parameters: {
        type: 'object',
        $schema: 'http://json-schema.org/draft-07/schema#',
        $defs: { When: { type: 'string', format: 'date-time' } },
        additionalProperties: false,
        properties: {
          query: { type: 'string' },
          when: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
          request_heartbeat: { type: 'boolean', description: expect.stringMatching(/^Request an immediate heartbeat/) },
        },
        required: ['query', 'request_heartbeat'],
      },
    });
  });

  it('an empty input schema gets no health and a bare object schema', () => {
    const listed = listedTool(sdkTool('ping', {}));
    expect(listed.health).toBeNull();
    const tool = lettaToolFromMcp(server, listed);
    expect(tool.json_schema).toEqual({
      name: 'ping',
      description: 'ping tool',
      parameters: {
        type: 'object',
        properties: { request_heartbeat: expect.any(Object) },
        additionalProperties: false,
        required: ['request_heartbeat'],
      },
    });
    expect(tool.json_schema).not.toHaveProperty('mcp:SCHEMA_STATUS');
  });

  it('lists tools with the wire fields Letta sends (nulls for what the server left out)', () => {
    const listed = listedTool({ ...sdkTool('t', { type: 'object' }), icons: [{ src: 'x' }] } as never);
    expect(listed).toMatchObject({
      name: 't',
      title: null,
      outputSchema: null,
      annotations: null,
      _meta: null,
      icons: [{ src: 'x' }],
      // Normalization made it strict: an object with additionalProperties:false and no properties.
      health: { status: 'STRICT_COMPLIANT', reasons: [] },
    });
  });
});

describe('refresh diff (Letta resync)', () => {
  const echo = listedTool(sdkTool('echo', { type: 'object', properties: { m: { type: 'string' } } }));
  const added = listedTool(sdkTool('added', { type: 'object', properties: {} }));
  const invalid = listedTool(
    sdkTool('broken', { type: 'object', properties: { a: { type: 'array' } }, required: ['a'] }),
  );

  it('reports added, changed and vanished tools, and leaves INVALID new tools out', () => {
    const registered = [
      // Same schema, keys in another order (as PostgreSQL jsonb returns them): unchanged.
      {
        id: 'tool-echo',
        name: 'echo',
        json_schema: JSON.parse(JSON.stringify(lettaToolFromMcp(server, echo).json_schema)),
      },
      { id: 'tool-gone', name: 'gone', json_schema: {} },
    ];
    const reordered = registered[0]!.json_schema as Record<string, unknown>;
    registered[0]!.json_schema = Object.fromEntries(Object.entries(reordered).reverse());

    const diff = diffMcpTools(server, [echo, added, invalid], registered);
    expect(diff.added.map((t) => t.name)).toEqual(['added']);
    expect(diff.changed).toEqual([]);
    expect(diff.vanished.map((t) => t.id)).toEqual(['tool-gone']);
    expect(diff.skippedInvalid.map((t) => t.name)).toEqual(['broken']);
    expect(resyncSummary(diff)).toEqual({ deleted: ['gone'], updated: [], added: ['added'] });

    const changedEcho = listedTool(sdkTool('echo', { type: 'object', properties: { m: { type: 'number' } } }));
    const second = diffMcpTools(server, [changedEcho], registered.slice(0, 1));
    expect(second.changed).toHaveLength(1);
    expect(second.changed[0]!.id).toBe('tool-echo');
    expect(second.changed[0]!.definition.json_schema).toMatchObject({
      parameters: { properties: { m: { type: 'number' } } },
    });
  });

  it('an INVALID tool already registered is still updated, as Letta does', () => {
    const diff = diffMcpTools(server, [invalid], [{ id: 'tool-b', name: 'broken', json_schema: {} }]);
    expect(diff.changed.map((c) => c.id)).toEqual(['tool-b']);
    expect(diff.changed[0]!.definition.json_schema['mcp:SCHEMA_STATUS']).toBe('INVALID');
  });

  it('compares JSON structurally', () => {
    expect(sameJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameJson({ a: undefined }, {})).toBe(false);
  });
});

describe('tool results', () => {
  it('joins text, marks isError, and says so when empty', () => {
    expect(
      executionResult({
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).toEqual({ status: 'success', funcReturn: 'a b' });
    expect(executionResult({ content: [{ type: 'text', text: 'bad' }], isError: true })).toEqual({
      status: 'error',
      funcReturn: 'bad',
    });
    expect(executionResult({ content: [] })).toEqual({ status: 'success', funcReturn: 'Empty response from tool' });
    expect(executionResult({ content: [], structuredContent: { n: 1 } }).funcReturn).toBe('{"n":1}');
    const blob = executionResult({
      content: [
        { type: 'resource', resource: { uri: 'file:///x', blob: 'A'.repeat(5000), mimeType: 'application/zip' } },
      ],
    });
    expect(blob.funcReturn).toBe(
      '{"type":"resource","resource":{"uri":"file:///x","blob":"<5000 base64 characters>","mimeType":"application/zip"}}',
    );
  });

  it('has the wire form of Letta ToolExecutionResult', () => {
    expect(wireExecutionResult({ status: 'error', funcReturn: 'x' })).toEqual({
      status: 'error',
      func_return: 'x',
      agent_state: null,
      stdout: null,
      stderr: null,
      sandbox_config_fingerprint: null,
    });
  });
});
