import type { AgentReply, ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../../domain/ports.js';
import { pythonRepr } from '../../lib/python-repr.js';
import type { BuiltinToolDefinition } from './definitions.js';

/** The two one-agent messaging tools take the same arguments. */
const MESSAGE_TO_AGENT: BuiltinToolDefinition['schema']['parameters'] = {
  type: 'object',
  properties: {
    message: { type: 'string', description: 'The content of the message to be sent to the target agent.' },
    other_agent_id: { type: 'string', description: 'The unique identifier of the target Letta agent.' },
  },
  required: ['message', 'other_agent_id'],
};

/** Letta's `MULTI_AGENT_TOOLS`, with the schemas its generator derives from `function_sets/multi_agent.py`. */
export const MULTI_AGENT_TOOLS: readonly BuiltinToolDefinition[] = [
  {
    toolType: 'letta_multi_agent_core',
    schema: {
      name: 'send_message_to_agent_and_wait_for_reply',
      description:
        "Sends a message to a specific Letta agent within the same organization and waits for a response. The sender's identity is automatically included, so no explicit introduction is needed in the message. This function is designed for two-way communication where a reply is expected.",
      parameters: MESSAGE_TO_AGENT,
    },
  },
  {
    toolType: 'letta_multi_agent_core',
    schema: {
      name: 'send_message_to_agents_matching_tags',
      description:
        'Sends a message to all agents within the same organization that match the specified tag criteria. Agents must possess *all* of the tags in `match_all` and *at least one* of the tags in `match_some` to receive the message.',
      parameters: {
        type: 'object',
        properties: {
          message: { type: 'string', description: 'The content of the message to be sent to each matching agent.' },
          match_all: {
            type: 'array',
            items: { type: 'string' },
            description: 'A list of tags that an agent must possess to receive the message.',
          },
          match_some: {
            type: 'array',
            items: { type: 'string' },
            description: 'A list of tags where an agent must have at least one to qualify.',
          },
        },
        required: ['message', 'match_all', 'match_some'],
      },
    },
  },
  {
    toolType: 'letta_multi_agent_core',
    schema: {
      name: 'send_message_to_agent_async',
      description:
        "Sends a message to a specific Letta agent within the same organization. The sender's identity is automatically included, so no explicit introduction is required in the message. This function does not expect a response from the target agent, making it suitable for notifications or one-way communication.",
      parameters: MESSAGE_TO_AGENT,
    },
    terminal: true,
  },
];

const MULTI_AGENT_TOOL_NAMES = new Set(MULTI_AGENT_TOOLS.map((t) => t.schema.name));

/** The prefixes Letta's multi-agent executor puts before a message, telling the receiver how to answer. */
const waitPrefix = (senderId: string) =>
  `[Incoming message from agent with ID '${senderId}' - to reply to this message, make sure to use the 'send_message' at the end, and the system will notify the sender of your response] `;
const asyncPrefix = (senderId: string) =>
  `[Incoming message from agent with ID '${senderId}' - to reply to this message, make sure to use the 'send_message_to_agent_async' tool, or the agent will not receive your message] `;
const TAGS_PREFIX =
  "[Incoming message from external Letta agent - to reply to this message, make sure to use the 'send_message' at the end, and the system will notify the sender of your response] ";

class ArgumentError extends Error {
  override name = 'TypeError';
}

function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw new ArgumentError(`argument '${name}' must be a string`);
  return value;
}

function tagsArg(args: Record<string, unknown>, name: string): string[] {
  const value = args[name] ?? [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string'))
    throw new ArgumentError(`argument '${name}' must be a list of strings`);
  return value as string[];
}

/** Python's `str()` of Letta's per-agent result dict. */
const replyRepr = (reply: AgentReply) =>
  'error' in reply
    ? { agent_id: reply.agentId, error: reply.error, type: reply.type }
    : { agent_id: reply.agentId, response: reply.response.length ? reply.response : ['<no response>'] };

/**
 * `send_message_to_agent_and_wait_for_reply`, `send_message_to_agent_async` and `send_message_to_agents_matching_tags`
 * as Letta's `LettaMultiAgentToolExecutor` runs them: each message is a system message to the target and a turn of
 * its own; the waiting tools return Python's `str()` of `{agent_id, response}` (or `{agent_id, error, type}`).
 */
export class MultiAgentToolExecutor implements ToolExecutor {
  handles(toolType: string, name: string): boolean {
    return toolType === 'letta_multi_agent_core' && MULTI_AGENT_TOOL_NAMES.has(name);
  }

  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolExecutionResult> {
    const messenger = ctx.messenger;
    if (!messenger) throw new Error('multi-agent tools run only inside an agent turn');
    const message = stringArg(call.args, 'message');
    let value: unknown;
    switch (call.name) {
      case 'send_message_to_agent_and_wait_for_reply': {
        const target = stringArg(call.args, 'other_agent_id');
        value = replyRepr(await messenger.ask(ctx.runId, target, waitPrefix(ctx.agentId) + message));
        break;
      }
      case 'send_message_to_agent_async': {
        const target = stringArg(call.args, 'other_agent_id');
        await messenger.notify(ctx.runId, target, asyncPrefix(ctx.agentId) + message);
        return { status: 'success', funcReturn: 'Successfully sent message' };
      }
      default: {
        const targets = await messenger.agentsMatchingTags(
          tagsArg(call.args, 'match_all'),
          tagsArg(call.args, 'match_some'),
        );
        // One after another, as Letta: every turn is a model call, and they would only queue on the provider.
        const replies = [];
        for (const target of targets)
          replies.push(replyRepr(await messenger.ask(ctx.runId, target, TAGS_PREFIX + message)));
        value = replies;
      }
    }
    return { status: 'success', funcReturn: pythonRepr(value) };
  }
}
