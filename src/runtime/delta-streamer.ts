import { nowIso } from '../lib/time.js';
import type { LlmStreamEvent } from '../llm/types.js';
import { lettaDate, otidFor, type LettaMessage } from '../domain/letta-messages.js';

/** `stream_tokens`: provider deltas become LettaMessage chunks sharing the parent id and otid (§6.4). */
export class DeltaStreamer {
  streamed = false;
  private readonly toolNames = new Map<string, string>();
  private readonly date = lettaDate(nowIso());

  constructor(
    private readonly emit: (chunk: LettaMessage) => void,
    readonly assistantId: string,
    readonly approvalId: string,
    private readonly stepId: string,
    private readonly needsApproval: (name: string) => boolean,
  ) {}

  on(event: LlmStreamEvent): void {
    this.streamed = true;
    const base = (id: string, index: number, type: string) => ({
      id,
      date: this.date,
      message_type: type,
      otid: otidFor(id, index),
      step_id: this.stepId,
      name: null,
      sender_id: null,
      is_err: null,
    });
    switch (event.type) {
      case 'reasoning-delta':
        this.emit({
          ...base(this.assistantId, 0, 'reasoning_message'),
          source: 'reasoner_model',
          reasoning: event.delta,
          signature: null,
        });
        break;
      case 'text-delta':
        this.emit({ ...base(this.assistantId, 1, 'assistant_message'), content: event.delta });
        break;
      case 'tool-call-start':
      case 'tool-call-delta': {
        const name = event.type === 'tool-call-start' ? event.name : this.toolNames.get(event.id);
        if (event.type === 'tool-call-start') this.toolNames.set(event.id, event.name);
        const approval = name !== undefined && this.needsApproval(name);
        const delta =
          event.type === 'tool-call-start'
            ? { name: event.name, arguments: '', tool_call_id: event.id }
            : { name: null, arguments: event.argumentsDelta, tool_call_id: event.id };
        const id = approval ? this.approvalId : this.assistantId;
        this.emit({
          ...base(id, approval ? 0 : 2, approval ? 'approval_request_message' : 'tool_call_message'),
          tool_call: delta,
          tool_calls: [delta],
        });
        break;
      }
    }
  }
}
