import type { ToolCall, ToolContext, ToolExecutionResult, ToolExecutor } from '../domain/ports.js';

/** Picks the executor for a call by tool type and name; an executor's throw becomes Letta's error text. */
export class ToolDispatcher {
  constructor(private readonly executors: ToolExecutor[]) {}

  async execute(call: ToolCall, toolType: string, ctx: ToolContext): Promise<ToolExecutionResult> {
    const executor = this.executors.find((e) => e.handles(toolType, call.name));
    if (!executor)
      return {
        status: 'error',
        funcReturn: `Error executing function ${call.name}: NotImplementedError: tools of type '${toolType}' cannot run on this server yet`,
      };
    try {
      return await executor.execute(call, ctx);
    } catch (error) {
      const text = `Error executing function ${call.name}: ${error instanceof Error ? error.name : 'Error'}: ${error instanceof Error ? error.message : String(error)}`;
      return { status: 'error', funcReturn: text.slice(0, 1000) };
    }
  }
}
