import { openAgentSecrets } from '../domain/agent-secrets.js';
import type { ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../domain/ports.js';
import { SecretError, type SecretBox } from '../lib/secrets.js';
import { parseJson } from '../store/json.js';
import {
  layerToolEnv,
  toolErrorText,
  type PipRequirement,
  type ToolRunner,
  type ToolSourceType,
} from './runners/index.js';

/**
 * Letta's local sandbox allows 180 s (`TOOL_SANDBOX_TIMEOUT`); the output cap keeps a chatty tool from filling the
 * server's memory before its result is truncated to `return_char_limit` anyway.
 */
export const SANDBOX_LIMITS = { timeoutMs: 180_000, outputLimitBytes: 4 * 1024 * 1024 } as const;

/** Letta's `validate_function_response`: strings as they are, `None` for no value, anything else as JSON. */
export function funcReturnText(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const SOURCE_TYPES: readonly string[] = ['python', 'javascript', 'typescript'] satisfies ToolSourceType[];

/**
 * Runs `custom` tools (Python, JavaScript, TypeScript) in the tool sandbox, with the agent's environment variables
 * (opened from the secret box only here, never logged) and, for Python tools that take it, the agent's state.
 */
export class CustomToolExecutor implements ToolExecutor {
  constructor(
    private readonly sandbox: ToolRunner,
    private readonly secrets: SecretBox,
  ) {}

  handles(toolType: string): boolean {
    return toolType === 'custom';
  }

  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult> {
    const tool = await ctx.stores.tools.findByName(call.name);
    if (!tool?.source_code)
      return { status: 'error', funcReturn: toolErrorText(call.name, 'ValueError', 'the tool has no source code') };
    if (!SOURCE_TYPES.includes(tool.source_type))
      return {
        status: 'error',
        funcReturn: toolErrorText(call.name, 'ValueError', `tools of source type '${tool.source_type}' cannot run`),
      };
    const agent = await ctx.stores.agents.findById(ctx.agentId);
    let agentEnv: Record<string, string> = {};
    try {
      if (agent) agentEnv = openAgentSecrets(this.secrets, agent.id, agent.secrets);
    } catch (error) {
      // A key mismatch between processes is the operator's to fix; the agent gets the reason, the turn goes on.
      if (error instanceof SecretError)
        return { status: 'error', funcReturn: toolErrorText(call.name, 'SecretError', error.message) };
      throw error;
    }
    const schema = parseJson<{ parameters?: { properties?: Record<string, unknown> } }>(tool.json_schema, {});
    // Letta passes only the arguments the schema declares; the model's extras never reach the function.
    const declared = new Set(Object.keys(schema.parameters?.properties ?? {}));
    const args = Object.fromEntries(Object.entries(call.args).filter(([key]) => declared.has(key)));
    const sourceType = tool.source_type as ToolSourceType;
    const wantsState = sourceType === 'python' && /\bagent_state\b/.test(tool.source_code);
    const result = await this.sandbox.run({
      sourceCode: tool.source_code,
      sourceType,
      functionName: tool.name,
      args,
      envVars: layerToolEnv({
        agentEnv,
        agentId: ctx.agentId,
        projectId: agent?.project_id ?? null,
        toolId: tool.id,
      }),
      agentState: wantsState && ctx.agentState ? await ctx.agentState() : null,
      pipRequirements: parseJson<PipRequirement[]>(tool.pip_requirements, []),
      jsonSchema: parseJson<Record<string, unknown> | null>(tool.json_schema, null),
      ...SANDBOX_LIMITS,
    });
    return {
      status: result.status,
      funcReturn: funcReturnText(result.funcReturn),
      stdout: result.stdout,
      stderr: result.stderr,
    };
  }
}
