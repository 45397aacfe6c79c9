import type {
  JSONSchema7,
  LanguageModelV3CallOptions,
  LanguageModelV3Message,
  LanguageModelV3ToolChoice,
  SharedV3ProviderOptions,
} from '@ai-sdk/provider';
import type { LlmContentPart, LlmMessage, LlmRequest, LlmToolChoice } from './types.js';
import type { ProviderSettings } from './settings.js';

/**
 * Tool-call arguments in the history go back to the provider as an object. Arguments the model once produced as
 * malformed JSON cannot be replayed verbatim (Anthropic requires an object), so they become `{}`; the tool return
 * that follows carries the parse error the model needs to see.
 */
function argumentsObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function userParts(content: string | LlmContentPart[]) {
  if (typeof content === 'string') return [{ type: 'text' as const, text: content }];
  return content.map((part) => {
    if (part.type === 'text') return { type: 'text' as const, text: part.text };
    if ('url' in part) return { type: 'file' as const, mediaType: 'image/*', data: new URL(part.url) };
    return { type: 'file' as const, mediaType: part.mediaType, data: part.data };
  });
}

function toModelMessage(message: LlmMessage): LanguageModelV3Message {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: userParts(message.content) };
    case 'tool':
      return {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            output: { type: 'text', value: message.content },
          },
        ],
      };
    case 'assistant': {
      // Anthropic requires thinking blocks (with their signatures) to come back first and unchanged.
      const reasoning = (message.reasoning ?? []).map((r) => ({
        type: 'reasoning' as const,
        text: r.text,
        providerOptions: {
          anthropic:
            r.redacted !== undefined
              ? { redactedData: r.redacted }
              : r.signature !== undefined
                ? { signature: r.signature }
                : {},
        },
      }));
      const text = message.content ? [{ type: 'text' as const, text: message.content }] : [];
      const calls = (message.toolCalls ?? []).map((c) => ({
        type: 'tool-call' as const,
        toolCallId: c.id,
        toolName: c.name,
        input: argumentsObject(c.arguments),
      }));
      return { role: 'assistant', content: [...reasoning, ...text, ...calls] };
    }
  }
}

function toolChoice(choice: LlmToolChoice): LanguageModelV3ToolChoice {
  return typeof choice === 'string' ? { type: choice } : { type: 'tool', toolName: choice.name };
}

/** Provider-specific knobs the seam expresses generically: parallel tool calls and extended thinking. */
function providerOptions(request: LlmRequest, provider: ProviderSettings): SharedV3ProviderOptions {
  const hasTools = request.tools.length > 0;
  if (provider.kind === 'anthropic') {
    return {
      anthropic: {
        ...(request.thinkingBudgetTokens
          ? { thinking: { type: 'enabled', budgetTokens: request.thinkingBudgetTokens } }
          : {}),
        ...(hasTools && request.parallelToolCalls === false ? { disableParallelToolUse: true } : {}),
      },
    };
  }
  if (provider.kind === 'openai')
    return hasTools && request.parallelToolCalls !== undefined
      ? { openai: { parallelToolCalls: request.parallelToolCalls } }
      : {};
  // Local OpenAI-compatible servers often reject or ignore `parallel_tool_calls`; it is not sent to them.
  return {};
}

export function toCallOptions(request: LlmRequest, provider: ProviderSettings): LanguageModelV3CallOptions {
  const tools = request.tools.map((t) => ({
    type: 'function' as const,
    name: t.name,
    description: t.description,
    inputSchema: t.parameters as JSONSchema7,
  }));
  return {
    prompt: request.messages.map(toModelMessage),
    ...(tools.length ? { tools, toolChoice: toolChoice(request.toolChoice) } : {}),
    ...(request.maxOutputTokens !== undefined ? { maxOutputTokens: request.maxOutputTokens } : {}),
    // Extended thinking rejects any temperature but the default.
    ...(request.temperature !== undefined && !(provider.kind === 'anthropic' && request.thinkingBudgetTokens)
      ? { temperature: request.temperature }
      : {}),
    providerOptions: providerOptions(request, provider),
  };
}
