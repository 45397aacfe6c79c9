import type { TestCairn } from './cairn.js';
import { upstreamOpenapi } from './openapi.js';

/** Waits until the background embedder has embedded every passage of the agent's archives. */
export async function waitForEmbeddings(server: TestCairn, agentId: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await server.cairn.services.archival.embeddingStatus(agentId);
    if (status.pending === 0) return;
    if (Date.now() > deadline)
      throw new Error(`embeddings still pending after ${timeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Upstream's `Archive` schema requires `organization_id` but does not declare it while forbidding extra
 * properties, so no object can satisfy it. Archives are checked against its declared properties instead.
 */
export function archiveKeys(): string[] {
  return Object.keys(upstreamOpenapi().components.schemas.Archive!.properties as Record<string, unknown>);
}
