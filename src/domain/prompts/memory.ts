import { zoneOrUtc } from '../../lib/zoned-time.js';
import type { BlockRecord } from '../../store/block.store.js';
import { renderToolRules, type ToolRule } from '../tool-rules.js';

const LINE_NUMBER_WARNING =
  "# NOTE: Line numbers shown below (with arrows like '1→') are to help during editing. Do NOT include line number prefixes in your memory edit tool calls.";
const TOOL_RULES_DESCRIPTION =
  'The following constraints define rules for tool usage and guide desired behavior. These rules must be followed to ensure proper tool execution and workflow. A single response may contain multiple tool calls.';

export const CORE_MEMORY_LINE_NUMBER_WARNING = LINE_NUMBER_WARNING;

/** Line-numbered values only for these types on an Anthropic endpoint (`letta/schemas/memory.py`). */
function lineNumbered(agentType: string, endpointType: string): boolean {
  return endpointType === 'anthropic' && ['sleeptime_agent', 'memgpt_v2_agent', 'letta_v1_agent'].includes(agentType);
}

function renderBlock(block: BlockRecord, numbered: boolean): string {
  const metadata = [
    ...(block.read_only ? ['- read_only=true'] : []),
    `- chars_current=${block.value.length}`,
    `- chars_limit=${block.char_limit}`,
  ];
  const value = numbered
    ? block.value
        .split('\n')
        .map((line, i) => `${i + 1}→ ${line}`)
        .join('\n')
    : block.value;
  return [
    `<${block.label}>`,
    '<description>',
    block.description ?? '',
    '</description>',
    '<metadata>',
    ...metadata,
    '</metadata>',
    ...(numbered ? ['<warning>', LINE_NUMBER_WARNING, '</warning>'] : []),
    '<value>',
    value,
    '</value>',
    `</${block.label}>`,
  ].join('\n');
}

/** `Memory.compile`: `<memory_blocks>`, then `<tool_usage_rules>` when any rule renders a line (§7.1–7.2). */
export function compileMemory(
  blocks: BlockRecord[],
  rules: ToolRule[],
  agentType: string,
  endpointType: string,
): string {
  const numbered = lineNumbered(agentType, endpointType);
  let out = '';
  if (blocks.length > 0) {
    out = `<memory_blocks>\nThe following memory blocks are currently engaged in your core memory unit:\n\n${blocks.map((b) => renderBlock(b, numbered)).join('\n\n')}\n\n</memory_blocks>`;
  }
  const ruleLines = renderToolRules(rules);
  if (ruleLines.length > 0)
    out += `\n\n<tool_usage_rules>\n${TOOL_RULES_DESCRIPTION}\n\n${ruleLines.join('\n')}\n</tool_usage_rules>`;
  return out;
}

export interface MetadataInput {
  agentId: string;
  conversationId: string | null;
  recompiledAt: Date;
  timezone: string;
  recallCount: number;
  archivalCount: number;
  archivalTags: string[];
}

interface ZoneFormatters {
  zone: string;
  parts: Intl.DateTimeFormat;
  offset: Intl.DateTimeFormat;
}

/** Building an Intl formatter costs far more than using one, and every tool return is stamped: cache per zone. */
const formatters = new Map<string, ZoneFormatters>();

function formattersFor(timezone: string): ZoneFormatters {
  let f = formatters.get(timezone);
  if (!f) {
    const zone = zoneOrUtc(timezone);
    f = {
      zone,
      parts: new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h12',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      }),
      offset: new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }),
    };
    formatters.set(timezone, f);
  }
  return f;
}

/** `%Y-%m-%d %I:%M:%S %p %Z%z` in the agent's timezone, e.g. `2025-01-15 09:00:00 AM UTC+0000`. */
export function formatLettaTime(date: Date, timezone: string): string {
  const f = formattersFor(timezone);
  const parts = f.parts.formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const longOffset = f.offset.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const offset = longOffset === 'GMT' ? '+0000' : longOffset.replace('GMT', '').replace(':', '');
  const name = f.zone === 'UTC' || f.zone === 'Etc/UTC' ? 'UTC' : get('timeZoneName');
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${get('dayPeriod')} ${name}${offset}`;
}

/** `PromptGenerator.compile_memory_metadata_block` (§7.4). */
export function compileMemoryMetadata(input: MetadataInput): string {
  const lines = [
    '<memory_metadata>',
    `- AGENT_ID: ${input.agentId}`,
    `- CONVERSATION_ID: ${input.conversationId ?? 'default'}`,
    `- System prompt last recompiled: ${formatLettaTime(input.recompiledAt, input.timezone)}`,
    `- ${input.recallCount} previous messages between you and the user are stored in recall memory`,
  ];
  if (input.archivalCount > 0)
    lines.push(
      `- ${input.archivalCount} total memories you created are stored in archival memory (use tools to access them)`,
    );
  if (input.archivalTags.length > 0) lines.push(`- Available archival memory tags: ${input.archivalTags.join(', ')}`);
  lines.push('</memory_metadata>');
  return lines.join('\n');
}

/** The compiled system message: base prompt + memory (appended, or in place of `{CORE_MEMORY}`) + metadata. */
export function compileSystemPrompt(base: string, memory: string, metadata: string): string {
  const memoryString = memory ? `${memory}\n\n${metadata}` : metadata;
  return base.includes('{CORE_MEMORY}') ? base.replace('{CORE_MEMORY}', memoryString) : `${base}\n\n${memoryString}`;
}
