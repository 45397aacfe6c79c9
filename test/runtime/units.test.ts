import { describe, expect, it } from 'vitest';
import { otidFor } from '../../src/domain/letta-messages.js';
import { truncateReturn } from '../../src/domain/packing.js';
import { compileMemory, formatLettaTime } from '../../src/domain/prompts/memory.js';
import { renderToolRules } from '../../src/domain/tool-rules.js';
import { constraintError, ToolRulesSolver } from '../../src/runtime/tool-rules.js';
import type { BlockRecord } from '../../src/store/block.store.js';

const block = (label: string, value: string, extra: Partial<BlockRecord> = {}): BlockRecord => ({
  seq: 1,
  id: `block-${label}`,
  label,
  value,
  char_limit: 100,
  description: `${label} desc`,
  read_only: 0,
  hidden: 0,
  metadata: '{}',
  project_id: null,
  template_name: null,
  is_template: 0,
  version: 1,
  created_at: '',
  updated_at: '',
  ...extra,
});

describe('runtime formats', () => {
  it('derives otids from the message uuid with the item index in the low 7 bits', () => {
    const id = 'message-123e4567-e89b-42d3-8456-4266141740ff';
    expect(otidFor(id, 0)).toBe('123e4567-e89b-42d3-8456-426614174080');
    expect(otidFor(id, 3)).toBe('123e4567-e89b-42d3-8456-426614174083');
  });

  it('formats Letta times in the agent timezone', () => {
    const date = new Date('2025-01-15T09:00:00Z');
    expect(formatLettaTime(date, 'UTC')).toBe('2025-01-15 09:00:00 AM UTC+0000');
    expect(formatLettaTime(date, 'America/New_York')).toBe('2025-01-15 04:00:00 AM EST-0500');
    expect(formatLettaTime(date, 'Not/AZone')).toBe('2025-01-15 09:00:00 AM UTC+0000');
  });

  it('truncates tool returns with Letta’s notice', () => {
    expect(truncateReturn('abcdef', 10)).toBe('abcdef');
    expect(truncateReturn('abcdefghijkl', 5)).toBe(
      'abcde... [NOTE: function output was truncated since it exceeded the character limit (12 > 5)]',
    );
  });

  it('renders line-numbered blocks for Anthropic endpoints and tool usage rules', () => {
    const memory = compileMemory(
      [block('human', 'a\nb', { read_only: 1 })],
      [{ type: 'exit_loop', tool_name: 'send_message' }],
      'letta_v1_agent',
      'anthropic',
    );
    expect(memory).toContain(
      '<metadata>\n- read_only=true\n- chars_current=3\n- chars_limit=100\n</metadata>\n<warning>\n# NOTE: Line numbers shown below',
    );
    expect(memory).toContain('<value>\n1→ a\n2→ b\n</value>');
    expect(memory).toContain(
      '<tool_usage_rules>\nThe following constraints define rules for tool usage and guide desired behavior. These rules must be followed to ensure proper tool execution and workflow. A single response may contain multiple tool calls.\n\n<tool_rule>\nsend_message ends your response (yields control) when called\n</tool_rule>\n</tool_usage_rules>',
    );
    expect(compileMemory([], [], 'letta_v1_agent', 'openai')).toBe('');
  });

  it('solves init, child, parent, conditional and max-count rules', () => {
    const solver = new ToolRulesSolver([
      { type: 'run_first', tool_name: 'a' },
      { type: 'constrain_child_tools', tool_name: 'a', children: ['b', 'c'] },
      { type: 'parent_last_tool', tool_name: 'c', children: ['d'] },
      { type: 'conditional', tool_name: 'b', child_output_mapping: { yes: 'd' }, default_child: 'c' },
      { type: 'max_count_per_step', tool_name: 'c', max_count_limit: 1 },
      { type: 'required_before_exit', tool_name: 'e' },
    ]);
    const all = ['a', 'b', 'c', 'd', 'e'];
    expect(solver.allowed(all)).toEqual({ names: ['a'], forced: true });
    solver.record('a', 'ok');
    expect(solver.allowed(all)).toEqual({ names: ['b', 'c'], forced: true });
    solver.record('b', 'no');
    expect(solver.allowed(all).names).toEqual(['c']);
    solver.record('c', 'ok');
    expect(solver.allowed(all).names).toEqual(['a', 'b', 'd', 'e']);
    expect(solver.uncalledRequiredBeforeExit()).toEqual(['e']);
    expect(renderToolRules([{ type: 'max_count_per_step', tool_name: 'c', max_count_limit: 2 }])).toEqual([
      '<tool_rule>\nc: at most 2 use(s) per response\n</tool_rule>',
    ]);
    expect(constraintError('x', ['a', 'b'])).toBe(
      "[ToolConstraintError] Cannot call x, valid tools include: ['a', 'b'].",
    );
  });
});
