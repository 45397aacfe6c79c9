import { agentFileSchema, type AgentFile } from './agent-file.js';

export type AgentFileVerdict = { ok: true; file: AgentFile } | { ok: false; problem: string };

/**
 * Validates a parsed `.af` upload against Letta's AgentFileSchema. It runs in the upload parser's worker thread (a
 * 40,000-message file takes seconds to validate), so it returns its verdict as plain data instead of throwing.
 */
export function checkAgentFile(document: unknown): AgentFileVerdict {
  // Letta accepts a file whose JSON is itself a JSON string (some published examples are stored so).
  let value = document;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, problem: 'Corrupted agent file format.' };
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'Corrupted agent file format: expected a JSON object.' };
  }
  if (!('agents' in value) || !Array.isArray(value.agents)) {
    return {
      ok: false,
      problem:
        "Legacy AgentSchema format is deprecated. Please use the new AgentFileSchema format with 'agents' field.",
    };
  }
  const parsed = agentFileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 10)
      .map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    return { ok: false, problem: `Invalid agent file: ${problems.join('; ')}` };
  }
  return { ok: true, file: parsed.data };
}
