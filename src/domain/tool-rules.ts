/** Tool rules as stored on the agent (`letta/schemas/tool_rule.py`), discriminated by `type`. */
export interface ToolRule {
  tool_name: string;
  type: string;
  children?: string[];
  default_child?: string | null;
  child_output_mapping?: Record<string, string>;
  require_output_mapping?: boolean;
  max_count_limit?: number;
  args?: Record<string, unknown> | null;
}

const wrap = (line: string) => `<tool_rule>\n${line}\n</tool_rule>`;

/** The lines of `<tool_usage_rules>` (§5.5); rules without a prompt line render nothing. */
export function renderToolRules(rules: ToolRule[]): string[] {
  return rules.flatMap((r): string[] => {
    switch (r.type) {
      case 'exit_loop':
        return [wrap(`${r.tool_name} ends your response (yields control) when called`)];
      case 'continue_loop':
        return [wrap(`${r.tool_name} requires continuing your response when called`)];
      case 'constrain_child_tools':
        return [wrap(`After using ${r.tool_name}, you must use one of these tools: ${(r.children ?? []).join(', ')}`)];
      case 'parent_last_tool':
        return [wrap(`${(r.children ?? []).join(', ')} can only be used after ${r.tool_name}`)];
      case 'conditional':
        return [wrap(`${r.tool_name} will determine which tool to use next based on its output`)];
      case 'required_before_exit':
        return [`<tool_rule>${r.tool_name} must be called before ending the conversation</tool_rule>`];
      case 'max_count_per_step':
        return [wrap(`${r.tool_name}: at most ${r.max_count_limit ?? 1} use(s) per response`)];
      default:
        return [];
    }
  });
}

const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(',')}]`
    : value !== null && typeof value === 'object'
      ? `{${Object.keys(value)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(value);

/** Letta drops repeated tool rules on agent create and update; the first of equal rules is kept, in order. */
export function dedupeToolRules<T extends { tool_name: string; type: string }>(rules: T[]): T[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = canonical(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
