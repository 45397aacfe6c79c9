import type { ToolRule } from '../domain/tool-rules.js';

/**
 * Tracks the tool calls of one request and answers which tools are allowed next, whether a call ends or continues
 * the loop, and whether the loop may end (`ToolRulesSolver`).
 */
export class ToolRulesSolver {
  private readonly history: string[] = [];
  private lastOutput: string | undefined;

  constructor(private readonly rules: ToolRule[]) {}

  private of(type: string): ToolRule[] {
    return this.rules.filter((r) => r.type === type);
  }

  record(toolName: string, output: string | undefined): void {
    this.history.push(toolName);
    this.lastOutput = output;
  }

  /** The allowed subset of `available` now, and whether the model must call one of them. */
  allowed(available: string[]): { names: string[]; forced: boolean } {
    const init = this.of('run_first').map((r) => r.tool_name);
    if (this.history.length === 0 && init.length > 0)
      return { names: available.filter((n) => init.includes(n)), forced: true };
    let names = [...available];
    let forced = false;
    const last = this.history.at(-1);
    if (last !== undefined) {
      const child = this.of('constrain_child_tools').find((r) => r.tool_name === last);
      if (child) {
        names = names.filter((n) => (child.children ?? []).includes(n));
        forced = true;
      }
      const conditional = this.of('conditional').find((r) => r.tool_name === last);
      if (conditional) {
        const mapped = this.lastOutput !== undefined ? conditional.child_output_mapping?.[this.lastOutput] : undefined;
        const next = mapped ?? conditional.default_child ?? undefined;
        if (next) names = names.filter((n) => n === next);
        else if (conditional.require_output_mapping) names = [];
        forced = true;
      }
    }
    for (const parent of this.of('parent_last_tool')) {
      if (last === parent.tool_name) forced = true;
      else names = names.filter((n) => !(parent.children ?? []).includes(n));
    }
    for (const max of this.of('max_count_per_step')) {
      const used = this.history.filter((h) => h === max.tool_name).length;
      if (used >= (max.max_count_limit ?? 1)) names = names.filter((n) => n !== max.tool_name);
    }
    return { names, forced };
  }

  initArgs(toolName: string): Record<string, unknown> | undefined {
    return this.of('run_first').find((r) => r.tool_name === toolName)?.args ?? undefined;
  }

  isTerminal(toolName: string): boolean {
    return this.of('exit_loop').some((r) => r.tool_name === toolName);
  }

  isContinue(toolName: string): boolean {
    return (
      this.of('continue_loop').some((r) => r.tool_name === toolName) ||
      this.of('constrain_child_tools').some((r) => r.tool_name === toolName)
    );
  }

  requiresApproval(toolName: string): boolean {
    return this.of('requires_approval').some((r) => r.tool_name === toolName);
  }

  uncalledRequiredBeforeExit(): string[] {
    return this.of('required_before_exit')
      .map((r) => r.tool_name)
      .filter((n) => !this.history.includes(n));
  }
}

export function constraintError(toolName: string, valid: string[]): string {
  return `[ToolConstraintError] Cannot call ${toolName}, valid tools include: ${JSON.stringify(valid).replace(/","/g, "', '").replace('["', "['").replace('"]', "']")}.`;
}
