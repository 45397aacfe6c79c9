import type { Stores } from '../store/index.js';

/**
 * Memory changes that other parts of Cairn react to inside the same transaction (the agent runtime recompiles
 * system prompts; the embedder re-indexes). Listeners run in the writer's transaction, so a failed reaction
 * rolls the write back and no agent ever sees half a change.
 */
export interface MemoryEvents {
  /** Core memory of these agents changed: a block value, or the set of attached blocks. */
  blocksChanged?(tx: Stores, agentIds: string[]): Promise<void>;
  /** `initialMessages` is the create request's `initial_message_sequence` (null when absent). */
  agentCreated?(
    tx: Stores,
    agentId: string,
    options?: { initialMessages?: { role?: string; content?: unknown }[] | null },
  ): Promise<void>;
  agentDeleting?(tx: Stores, agentId: string): Promise<void>;
  embeddingChanged?(tx: Stores, agentId: string, handle: string): Promise<void>;
}

export class MemoryEventBus {
  private readonly listeners: MemoryEvents[] = [];

  subscribe(listener: MemoryEvents): void {
    this.listeners.push(listener);
  }

  async blocksChanged(tx: Stores, agentIds: string[]): Promise<void> {
    if (agentIds.length === 0) return;
    for (const l of this.listeners) await l.blocksChanged?.(tx, agentIds);
  }

  async agentCreated(
    tx: Stores,
    agentId: string,
    options?: { initialMessages?: { role?: string; content?: unknown }[] | null },
  ): Promise<void> {
    for (const l of this.listeners) await l.agentCreated?.(tx, agentId, options);
  }

  async agentDeleting(tx: Stores, agentId: string): Promise<void> {
    for (const l of this.listeners) await l.agentDeleting?.(tx, agentId);
  }

  async embeddingChanged(tx: Stores, agentId: string, handle: string): Promise<void> {
    for (const l of this.listeners) await l.embeddingChanged?.(tx, agentId, handle);
  }
}
