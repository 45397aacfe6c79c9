import { isSealed, type SecretBox } from '../lib/secrets.js';

/** Each value is sealed for its own agent and key, so a value copied to another agent or key fails to open. */
const contextOf = (agentId: string, key: string) => `agent:${agentId}:secret:${key}`;

/** The agent's `secrets` / `tool_exec_environment_variables` as stored: a JSON object of sealed values. */
export function sealAgentSecrets(box: SecretBox, agentId: string, values: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, box.encrypt(value, contextOf(agentId, key))]),
    ),
  );
}

/** Opens the stored form; a value stored before encryption (plain text) is used as it is. */
export function openAgentSecrets(box: SecretBox, agentId: string, stored: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  return Object.fromEntries(
    Object.entries(parsed as Record<string, unknown>).flatMap(([key, value]) => {
      if (typeof value !== 'string') return [];
      return [[key, isSealed(value) ? box.decrypt(value, contextOf(agentId, key)) : value]];
    }),
  );
}
