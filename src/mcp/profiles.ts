/** The tool profiles, apart from the tools themselves: the CLI names them in its help without loading the MCP SDK. */
export type ToolProfile = 'memory' | 'letta' | 'all';
export const TOOL_PROFILES: ToolProfile[] = ['memory', 'letta', 'all'];

export function parseProfile(value: string | undefined | null): ToolProfile {
  if (!value) return 'memory';
  if ((TOOL_PROFILES as string[]).includes(value)) return value as ToolProfile;
  throw new Error(`unknown tool profile '${value}' (expected ${TOOL_PROFILES.join(', ')})`);
}
