import { createHash } from 'node:crypto';
import { invalidField, notFound } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { toIso } from '../lib/time.js';
import { messageRow } from '../domain/messages.js';
import type { Stores } from '../store/index.js';
import type { NewMessage } from '../store/message.store.js';
import type { CaptureInput, CaptureResult } from '../schemas/capture.js';
import { missing } from '../domain/errors.js';

/**
 * Imports messages into an agent's history without running it: a client (the Claude Code hooks, `log_session_entry`)
 * records what happened elsewhere so that recall search finds it later.
 *
 * Captured rows are history only: they are NOT added to the agent's (or conversation's) in-context message ids,
 * because the agent did not take part in them and the next turn's prompt would otherwise grow with a foreign
 * transcript. `otid` makes a capture idempotent: the message id is derived from (agent, otid), so a retried batch
 * stores nothing twice.
 */
export class CaptureService {
  constructor(private readonly stores: Stores) {}

  async capture(agentId: string, messages: CaptureInput[], conversationId: string | undefined): Promise<CaptureResult> {
    const agent = await this.stores.agents.findById(agentId);
    if (!agent) throw missing('Agent', agentId);
    if (conversationId) {
      const conversation = await this.stores.conversations.findById(conversationId);
      if (!conversation || conversation.agent_id !== agentId)
        throw notFound(`Conversation with id '${conversationId}' not found for agent '${agentId}'`);
    }
    const now = Date.now();
    const rows = messages.map((m, i) => this.row(agentId, conversationId ?? null, m, i, now));
    try {
      return await this.insertNew(rows);
    } catch (error) {
      // A concurrent capture of the same otids won the race; the second look skips what it stored.
      const retried = await this.insertNew(rows).catch(() => undefined);
      if (retried) return retried;
      throw error;
    }
  }

  private async insertNew(rows: NewMessage[]): Promise<CaptureResult> {
    return this.stores.transaction(async (tx) => {
      // A message with an otid has a stable id: one already stored is a redelivery.
      const stored = await tx.messages.existingIds(rows.flatMap((r) => (r.otid ? [r.id] : [])));
      const fresh = rows.filter((r) => !stored.has(r.id));
      await tx.messages.insertMany(fresh);
      return { captured: fresh.length, skipped: rows.length - fresh.length, message_ids: fresh.map((r) => r.id) };
    });
  }

  private row(agentId: string, conversationId: string | null, m: CaptureInput, index: number, now: number): NewMessage {
    let createdAt: string;
    if (m.created_at) {
      const parsed = Date.parse(m.created_at);
      if (Number.isNaN(parsed))
        throw invalidField(['body', 'messages', index, 'created_at'], 'Invalid datetime', m.created_at);
      createdAt = toIso(parsed);
    } else {
      // Distinct, increasing timestamps keep a batch in order for date-ranged reads too.
      createdAt = toIso(now + index);
    }
    const context = { agentId, conversationId, runId: null, stepId: null, model: null };
    return messageRow(context, m.role, [{ type: 'text', text: m.content }], {
      id: m.otid ? idFromOtid(agentId, m.otid) : newId('message'),
      otid: m.otid ?? null,
      created_at: createdAt,
    });
  }
}

/** A `message-<uuid4>`-shaped id determined by (agent, otid), so duplicates collide on the primary key. */
function idFromOtid(agentId: string, otid: string): string {
  const h = createHash('sha256').update(`${agentId}\0${otid}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `message-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
