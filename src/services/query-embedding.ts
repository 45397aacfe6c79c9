import type { Logger } from 'pino';
import type { Embedders } from '../embedders/index.js';
import { CairnError } from '../lib/errors.js';

/**
 * A query's embedding with the handle its targets were embedded with. An unusable handle throws
 * `EmbedderUnavailable` (400; hybrid search falls back to full text); a provider failure is an explicit 502, never
 * a silent fallback.
 */
export async function embedQuery(embedders: Embedders, handle: string, query: string): Promise<Float32Array> {
  const embedder = embedders.get(handle);
  try {
    const [vector] = await embedder.embed([query]);
    return vector!;
  } catch (error) {
    throw new CairnError(
      502,
      `Could not embed the query with '${handle}': ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Logs a hybrid search's fall back to full text once per owner (agent or archive), not once per search. */
export class FallbackNotices {
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  note(owner: string, reason: string): void {
    if (this.logged.has(owner)) return;
    this.logged.add(owner);
    this.logger.warn(
      { owner, reason },
      'hybrid search answers from full text only: the embedding handle is not usable',
    );
  }
}
