import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as wire from '../../../src/schemas/mcp-server.js';
import { CairnError } from '../../../src/lib/errors.js';
import {
  createMcpServerSchema,
  legacyServerConfigSchema,
  legacyUpdateMcpServerSchema,
  mcpServerAgentFileSchema,
  mcpServerSchema,
  mcpToolHealthSchema,
  mcpToolSchema,
  sseServerConfigSchema,
  stdioServerConfigSchema,
  streamableHttpServerConfigSchema,
  toolAnnotationsSchema,
  toolExecuteRequestSchema,
  toolExecutionResultSchema,
  updateMcpServerSchema,
} from '../../../src/schemas/mcp-server.js';
import type { McpServerConfig } from '../../../src/tools/mcp/config.js';
import {
  applyLegacyUpdate,
  applyUpdate,
  configFromCreate,
  configFromLegacy,
  legacyConfigResponse,
  mcpServerResponse,
} from '../../../src/tools/mcp/wire.js';
import { expectLettaSchema, upstreamOpenapi } from '../../support/openapi.js';

type Component = { properties?: Record<string, { const?: unknown; default?: unknown }>; required?: string[] };
const openapi = upstreamOpenapi();
const component = (name: string) => openapi.components.schemas[name] as Component;

type AnyObject = z.ZodObject<z.ZodRawShape>;
const members = (union: unknown) => (union as { options: AnyObject[] }).options;
const optional = (field: z.ZodType) => field.safeParse(undefined).success;

/** Each schema under the component name it carries (`.meta({ id })`). */
const named = (schemas: unknown[]): [string, AnyObject][] =>
  schemas.map((schema) => [z.globalRegistry.get(schema as z.ZodType)!.id!, schema as AnyObject]);

function expectSameFields(name: string, schema: AnyObject): Component {
  const spec = component(name);
  expect(Object.keys(schema.shape).sort()).toEqual(Object.keys(spec.properties ?? {}).sort());
  return spec;
}

describe('wire types match the OpenAPI document', () => {
  const requests = named([
    createMcpServerSchema,
    ...members(createMcpServerSchema.shape.config),
    updateMcpServerSchema,
    ...members(updateMcpServerSchema.shape.config),
    stdioServerConfigSchema,
    sseServerConfigSchema,
    streamableHttpServerConfigSchema,
    toolExecuteRequestSchema,
  ]);

  it.each(requests)('%s: same fields, same required ones, same discriminator defaults', (name, schema) => {
    const spec = expectSameFields(name, schema);
    const required = Object.entries(schema.shape)
      .filter(([, field]) => !optional(field as z.ZodType))
      .map(([key]) => key);
    expect(required.sort()).toEqual([...(spec.required ?? [])].sort());
    for (const [key, prop] of Object.entries(spec.properties ?? {}))
      if (prop.default !== undefined && typeof prop.default === 'string')
        expect((schema.shape[key] as z.ZodType).parse(undefined), `${name}.${key}`).toBe(prop.default);
  });

  const responses = named([
    ...members(mcpServerSchema),
    toolExecutionResultSchema,
    mcpToolSchema,
    mcpToolHealthSchema,
    toolAnnotationsSchema,
    mcpServerAgentFileSchema,
  ]);

  it.each(responses)('%s: same fields, every required one present', (name, schema) => {
    const spec = expectSameFields(name, schema);
    for (const key of spec.required ?? [])
      expect(optional(schema.shape[key] as z.ZodType), `${name}.${key}`).toBe(false);
  });

  it('every schema renders for the OpenAPI plugin, as input and output', () => {
    const schemas = Object.entries(wire as Record<string, unknown>).filter(
      (entry): entry is [string, z.ZodType] => entry[1] instanceof z.ZodType,
    );
    expect(schemas.length).toBeGreaterThan(20);
    for (const [name, schema] of schemas)
      for (const io of ['input', 'output'] as const)
        expect(() => z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }), name).not.toThrow();
  });

  it('the legacy update reads every field of the three legacy update types', () => {
    const fields = new Set(
      ['UpdateStdioMCPServer', 'UpdateSSEMCPServer', 'UpdateStreamableHTTPMCPServer'].flatMap((name) =>
        Object.keys(component(`letta__schemas__mcp__${name}`).properties ?? {}),
      ),
    );
    expect(Object.keys(legacyUpdateMcpServerSchema.shape).sort()).toEqual([...fields].sort());
  });
});

describe('requests as clients send them', () => {
  it('create: the discriminator picks the transport and must be there; URLs must be http(s)', () => {
    expect(
      createMcpServerSchema.parse({
        server_name: 's',
        config: { mcp_server_type: 'stdio', command: 'npx', args: ['-y', 'x'], unknown: 1 },
      }),
    ).toEqual({ server_name: 's', config: { mcp_server_type: 'stdio', command: 'npx', args: ['-y', 'x'] } });
    expect(createMcpServerSchema.safeParse({ server_name: 's', config: { command: 'npx', args: [] } }).success).toBe(
      false,
    );
    const bad = createMcpServerSchema.safeParse({
      server_name: 's',
      config: { mcp_server_type: 'sse', server_url: 'ftp://example.com' },
    });
    expect(bad.error?.issues[0]?.message).toBe(
      "server_url must start with 'http://' or 'https://', got: 'ftp://example.com'",
    );
  });

  it('update: command/args and server_url must be sent, null allowed', () => {
    const ok = updateMcpServerSchema.parse({ config: { mcp_server_type: 'stdio', command: null, args: null } });
    expect(ok.config).toEqual({ mcp_server_type: 'stdio', command: null, args: null });
    expect(updateMcpServerSchema.safeParse({ config: { mcp_server_type: 'stdio', args: ['a'] } }).success).toBe(false);
    expect(updateMcpServerSchema.safeParse({ config: { mcp_server_type: 'sse', auth_token: 't' } }).success).toBe(
      false,
    );
    expect(updateMcpServerSchema.safeParse({ config: { mcp_server_type: 'sse', server_url: null } }).success).toBe(
      true,
    );
  });

  it('legacy config: stdio by command, SSE by default for a URL, streamable HTTP when named', () => {
    expect(legacyServerConfigSchema.parse({ server_name: 'a', command: 'uvx', args: ['m'] })).toMatchObject({
      type: 'stdio',
    });
    expect(legacyServerConfigSchema.parse({ server_name: 'b', server_url: 'https://x.dev/sse' })).toMatchObject({
      type: 'sse',
    });
    expect(
      legacyServerConfigSchema.parse({ server_name: 'c', type: 'streamable_http', server_url: 'https://x.dev/mcp' }),
    ).toMatchObject({ type: 'streamable_http' });
    expect(
      legacyServerConfigSchema.safeParse({ server_name: 'd', type: 'stdio', server_url: 'https://x' }).success,
    ).toBe(false);
  });

  it('run: a missing body is no arguments', () => {
    expect(toolExecuteRequestSchema.parse({})).toEqual({ args: {} });
  });
});

describe('converting between the wire and the client config', () => {
  const http: McpServerConfig = {
    type: 'streamable_http',
    serverName: 'remote',
    serverUrl: 'https://mcp.example.com/mcp',
    authHeader: 'Authorization',
    authToken: 'Bearer tok-123',
    customHeaders: { 'X-Key': 'k-456' },
  };
  const stdio: McpServerConfig = {
    type: 'stdio',
    serverName: 'local',
    command: 'npx',
    args: ['-y', 'srv'],
    env: { API_KEY: 'e-789' },
  };

  it('a bare token under Authorization becomes a bearer token, as Letta sends it', () => {
    const config = configFromCreate(
      createMcpServerSchema.parse({
        server_name: 'r',
        config: {
          mcp_server_type: 'sse',
          server_url: 'https://x.dev/sse',
          auth_header: 'Authorization',
          auth_token: 'abc',
        },
      }),
    );
    expect(config).toMatchObject({ type: 'sse', authHeader: 'Authorization', authToken: 'Bearer abc' });
    const keyed = configFromLegacy(
      legacyServerConfigSchema.parse({
        server_name: 'k',
        server_url: 'https://x.dev/sse',
        auth_header: 'X-API-Key',
        auth_token: 'abc',
      }),
    );
    expect(keyed).toMatchObject({ authHeader: 'X-API-Key', authToken: 'abc' });
  });

  it('responses never carry a secret', () => {
    const response = mcpServerResponse('mcp_server-00000000-0000-4000-8000-000000000001', http);
    expect(response).toEqual({
      id: 'mcp_server-00000000-0000-4000-8000-000000000001',
      server_name: 'remote',
      mcp_server_type: 'streamable_http',
      server_url: 'https://mcp.example.com/mcp',
      auth_header: 'Authorization',
      auth_token: 'Bearer ****',
      custom_headers: { 'X-Key': '****' },
    });
    expect(mcpServerSchema.parse(response)).toEqual(response);
    expectLettaSchema('StreamableHTTPMCPServer', response);
    expectLettaSchema('StdioMCPServer', mcpServerResponse('mcp_server-00000000-0000-4000-8000-000000000002', stdio));
    expect(mcpServerResponse('mcp_server-2', stdio)).toMatchObject({ command: 'npx', env: { API_KEY: '****' } });
    const legacy = [legacyConfigResponse(http), legacyConfigResponse(stdio)];
    expect(JSON.stringify(legacy)).not.toMatch(/tok-123|k-456|e-789/);
    expect(legacy[0]).toMatchObject({ type: 'streamable_http', auth_token: 'Bearer ****' });
  });

  it('updates keep what is null, absent or echoed back redacted', () => {
    const echoed = applyUpdate(
      http,
      updateMcpServerSchema.parse({
        server_name: 'renamed',
        config: {
          mcp_server_type: 'streamable_http',
          server_url: null,
          auth_token: 'Bearer ****',
          custom_headers: { 'X-Key': '****', 'X-New': 'n' },
        },
      }),
    );
    expect(echoed).toEqual({ ...http, serverName: 'renamed', customHeaders: { 'X-Key': 'k-456', 'X-New': 'n' } });
    const replaced = applyUpdate(
      http,
      updateMcpServerSchema.parse({
        config: { mcp_server_type: 'streamable_http', server_url: 'https://new.dev/mcp', auth_token: 'fresh' },
      }),
    );
    expect(replaced).toMatchObject({
      serverUrl: 'https://new.dev/mcp',
      authToken: 'Bearer fresh',
      serverName: 'remote',
    });
  });

  it('a stdio update replaces the command line only when command and args are both given', () => {
    const nameOnly = applyUpdate(
      stdio,
      updateMcpServerSchema.parse({
        server_name: 'n',
        config: { mcp_server_type: 'stdio', command: null, args: null },
      }),
    );
    expect(nameOnly).toEqual({ ...stdio, serverName: 'n' });
    const whole = applyUpdate(
      stdio,
      updateMcpServerSchema.parse({
        config: { mcp_server_type: 'stdio', command: 'node', args: ['s.js'], env: { API_KEY: '****' } },
      }),
    );
    expect(whole).toEqual({
      type: 'stdio',
      serverName: 'local',
      command: 'node',
      args: ['s.js'],
      env: { API_KEY: 'e-789' },
    });
    // Letta's convert_update_to_internal: env left out is cleared with the rest of the command line.
    const noEnv = applyUpdate(
      stdio,
      updateMcpServerSchema.parse({ config: { mcp_server_type: 'stdio', command: 'node', args: [] } }),
    );
    expect(noEnv.type === 'stdio' && noEnv.env).toBeNull();
  });

  it('an update for another transport is a 400', () => {
    const attempt = () =>
      applyUpdate(
        stdio,
        updateMcpServerSchema.parse({ config: { mcp_server_type: 'sse', server_url: 'https://x.dev' } }),
      );
    expect(attempt).toThrow(CairnError);
    expect(attempt).toThrow(/is a stdio server/);
  });

  it('legacy updates: SSE token, streamable auth fields, stdio_config', () => {
    expect(
      applyLegacyUpdate(
        { ...http, type: 'sse', authHeader: null, authToken: null },
        legacyUpdateMcpServerSchema.parse({ token: 't0' }),
      ),
    ).toMatchObject({ authHeader: 'Authorization', authToken: 'Bearer t0' });
    expect(
      applyLegacyUpdate(http, legacyUpdateMcpServerSchema.parse({ auth_header: 'X-Api-Key', auth_token: 'raw' })),
    ).toMatchObject({
      authHeader: 'X-Api-Key',
      authToken: 'raw',
    });
    const moved = applyLegacyUpdate(
      stdio,
      legacyUpdateMcpServerSchema.parse({ stdio_config: { server_name: 'local', command: 'uvx', args: ['m'] } }),
    );
    expect(moved).toEqual({ type: 'stdio', serverName: 'local', command: 'uvx', args: ['m'], env: null });
  });
});
