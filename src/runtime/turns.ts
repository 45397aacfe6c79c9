import type { Logger } from 'pino';
import { CairnError, badRequest, conflict } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type { LlmProviders } from '../llm/types.js';
import type { SendMessageBody } from '../schemas/message.js';
import type { Stores } from '../store/index.js';
import { newRunRow } from '../store/run.store.js';
import { parseJson } from '../store/json.js';
import { normalizeApprovals, resolveApproval, type RawApproval } from './approvals.js';
import type { AgentLoop } from './loop.js';
import { turnErrorFor } from './turn-errors.js';
import { isApprovalRequest, messageRow, toolCallsOf, type ContentPart } from '../domain/messages.js';
import { CANCELLED_DENIAL } from '../domain/packing.js';
import { toolReturnRow } from './toolset.js';
import { LiveRun } from './run-stream.js';
import type { AgentPatch, AgentRecord } from '../store/agent.store.js';
import type { ConversationRecord } from '../store/conversation.store.js';
import type { MessageRecord } from '../store/message.store.js';
import type { ToolRecord } from '../store/tool.store.js';
import { missing } from '../domain/errors.js';
import { startHeartbeatSweep, type HeartbeatSweep, type StaleTiming } from '../lib/heartbeat-sweep.js';
import { inContextIds, inContextIdsOf, setInContextIds } from './system-prompt.js';
import { type ApprovalInput, type ThreadState, type UserInput } from './turn-types.js';
import {
  emptyUsage,
  lettaResponse,
  modelHandleOf,
  runStatusFor,
  type StartedTurn,
  type TurnOutcome,
} from '../domain/turns.js';

export type SendMode = 'sync' | 'stream' | 'async';

/** Pauses before the second and third attempts to record a turn's end. */
const RECORD_RETRY_MS = [500, 2_000];

export interface ConstraintErrors {
  isUniqueViolation(error: unknown): boolean;
  isForeignKeyViolation(error: unknown): boolean;
}

const runMetadataFor = (mode: SendMode) => ({ run_type: mode === 'async' ? 'send_message_async' : 'send_message' });

/** The turn lock's key (`runs.thread_lock`): one turn at a time per agent and conversation. */
const threadLock = (agentId: string, conversationId: string | null) => `${agentId}:${conversationId ?? 'default'}`;

/** The thread a send is for, and the key of its turn lock. */
interface ThreadKey {
  agentId: string;
  conversationId: string | null;
  lock: string;
}

/** What a turn starts from, read with the run's insert. */
interface ThreadRead {
  agent: AgentRecord | undefined;
  conversation: ConversationRecord | undefined;
  tools: Map<string, ToolRecord[]>;
  /** The thread's system row as of its last turn, if this process knows which it was. */
  system: MessageRecord[];
}

/** A send's body split into what the loop consumes: new input messages, and replies to a pending approval. */
interface ParsedSend {
  inputs: UserInput[];
  approvals: RawApproval[];
  approvalOtid: string | null;
}

/** A send checked against its thread under the turn lock: what the loop runs on. */
interface PreparedTurn {
  agent: AgentRecord;
  thread: ThreadState;
  body: SendMessageBody;
  approval: ApprovalInput | undefined;
}

/** A turn that holds its run: the live chunk log, its abort, and how it was sent. */
interface RunningTurn {
  key: ThreadKey;
  runId: string;
  live: LiveRun;
  abort: AbortController;
  mode: SendMode;
  inputs: UserInput[];
}

/** Everything a turn starts from, each read at once (none waits for another's answer: see `Stores.pipelined`). */
async function readThread(
  s: Stores,
  agentId: string,
  conversationId: string | null,
  systemId: string | undefined,
): Promise<ThreadRead> {
  const [agent, conversation, tools, system] = await Promise.all([
    s.agents.findById(agentId),
    conversationId === null ? undefined : s.conversations.findById(conversationId),
    s.tools.listForAgents([agentId]),
    systemId ? s.messages.findByIds([systemId]) : [],
  ]);
  return { agent, conversation, tools, system };
}

/** The input messages and approval replies of a send (§4.5), in the order the client gave them. */
function parseSend(body: SendMessageBody): ParsedSend {
  const send: ParsedSend = { inputs: [], approvals: [], approvalOtid: null };
  if (body.input !== undefined && body.input !== null)
    send.inputs.push({
      role: 'user',
      content: toParts(body.input),
      otid: null,
      name: null,
      senderId: null,
      groupId: null,
    });
  for (const m of body.messages ?? []) {
    if (m.type === 'message')
      send.inputs.push({
        role: m.role,
        content: toParts(m.content),
        otid: m.otid ?? null,
        name: m.name ?? null,
        senderId: m.sender_id ?? null,
        groupId: m.group_id ?? null,
      });
    else if (m.type === 'approval') {
      send.approvalOtid = m.otid ?? send.approvalOtid;
      if (m.approvals?.length) send.approvals.push(...(m.approvals as RawApproval[]));
      else if (m.approval_request_id !== undefined || m.approve !== undefined)
        send.approvals.push({
          type: 'approval',
          tool_call_id: m.approval_request_id ?? null,
          approve: m.approve ?? true,
          reason: m.reason ?? null,
        });
    } else {
      send.approvalOtid = m.otid ?? send.approvalOtid;
      send.approvals.push(...(m.tool_returns as RawApproval[]).map((r) => ({ ...r, type: 'tool' })));
    }
  }
  return send;
}

function toParts(content: unknown): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  return content.flatMap((p: Record<string, unknown>): ContentPart[] => {
    if (p.type === 'text' && typeof p.text === 'string') return [{ type: 'text', text: p.text }];
    if (p.type === 'image' && p.source && typeof p.source === 'object')
      return [{ type: 'image', source: p.source as Record<string, unknown> }];
    return [];
  });
}

export interface TurnEnded {
  agentId: string;
  conversationId: string | null;
  runId: string;
  outcome: TurnOutcome;
}

/**
 * Starts turns: creates the run, which takes the per-thread lock, validates the input against the thread read under
 * it (pending approvals, §5.6), and runs the loop detached from the HTTP request, so a disconnect never stops it
 * (§5.7).
 */
export class TurnService {
  private readonly live = new Map<string, { run: LiveRun; abort: AbortController }>();
  private readonly turnEndListeners: ((ended: TurnEnded) => void)[] = [];
  private sweeper: HeartbeatSweep | undefined;

  constructor(
    private readonly stores: Stores,
    private readonly loop: AgentLoop,
    private readonly providers: LlmProviders,
    private readonly constraints: ConstraintErrors,
    private readonly logger: Logger,
  ) {}

  /**
   * Every heartbeat this process refreshes its active runs and fails any run whose owner went silent for the stale
   * window (a crashed process, on this or another machine), freeing its turn lock.
   */
  startSweeper(soleProcess: boolean, timing: StaleTiming): void {
    this.sweeper = startHeartbeatSweep({
      timing,
      soleProcess,
      heartbeat: (now) => this.stores.runs.heartbeat([...this.live.keys()], now),
      sweep: async (before, now) => {
        const failed = await this.stores.runs.failStale(before, now);
        if (failed.length > 0) this.logger.warn({ runs: failed }, 'failed runs left active by a stopped process');
      },
      onError: (error) => this.logger.error({ err: error }, 'run sweep failed'),
    });
  }

  /** Stops the sweeper and waits for this process's turns to finish (they are persisted step by step). */
  async stop(): Promise<void> {
    this.sweeper?.stop();
    for (const { abort } of this.live.values()) abort.abort();
    const deadline = Date.now() + 5000;
    while (this.live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /**
   * `listener` hears of every turn this process ends, after its end is recorded and without being awaited, so what
   * it starts (a sleeptime agent's run) never delays or fails the turn.
   */
  onTurnEnd(listener: (ended: TurnEnded) => void): void {
    this.turnEndListeners.push(listener);
  }

  liveRun(runId: string): LiveRun | undefined {
    return this.live.get(runId)?.run;
  }

  async start(
    agentId: string,
    conversationId: string | null,
    body: SendMessageBody,
    mode: SendMode,
  ): Promise<StartedTurn> {
    const send = parseSend(body);
    const key: ThreadKey = { agentId, conversationId, lock: threadLock(agentId, conversationId) };
    const runId = newId('run');
    const read = await this.claim(runId, key, body, mode);
    // The run holds the thread's turn lock now, and a cancel can name it: it is live from here on. What was read with
    // it (the agent, the thread's in-context ids) is what the previous turn committed, and the loop runs on it without
    // reading it again. A send refused here removes its run, and the lock with it.
    const live = new LiveRun(runId, this.stores, mode === 'stream', this.logger);
    const abort = new AbortController();
    this.live.set(runId, { run: live, abort });
    let prepared: PreparedTurn;
    try {
      prepared = await this.prepare(read, key, body, send);
    } catch (error) {
      this.live.delete(runId);
      await this.stores.runs
        .deleteUnstarted(runId)
        .catch((e: unknown) => this.logger.error({ err: e, runId }, 'removing a refused run failed'));
      throw error;
    }
    const outcome = this.execute(prepared, { key, runId, live, abort, mode, inputs: send.inputs });
    return { runId, stream: live.source(0), outcome };
  }

  /**
   * Creates the run, which takes the thread's turn lock (409 while another run holds it, 404 for an unknown agent),
   * and reads the thread with it: the agent, the conversation, the tools and the system row the thread had last time,
   * in the insert's own round trip on PostgreSQL.
   */
  private async claim(runId: string, key: ThreadKey, body: SendMessageBody, mode: SendMode): Promise<ThreadRead> {
    const { agentId, conversationId, lock } = key;
    const systemId = this.loop.rows.systemIdOf(lock);
    const run = newRunRow({
      id: runId,
      agent_id: agentId,
      conversation_id: conversationId,
      status: mode === 'async' ? 'created' : 'running',
      background: mode === 'async' || body.background === true ? 1 : 0,
      streamed: mode === 'stream' ? 1 : 0,
      metadata: JSON.stringify(runMetadataFor(mode)),
      request_config: JSON.stringify({
        use_assistant_message: body.use_assistant_message ?? true,
        assistant_message_tool_name: body.assistant_message_tool_name ?? 'send_message',
        assistant_message_tool_kwarg: body.assistant_message_tool_kwarg ?? 'message',
        include_return_message_types: body.include_return_message_types ?? null,
      }),
      callback_url: body.callback_url ?? null,
      created_at: nowIso(),
      thread_lock: lock,
    });
    try {
      // The reads come after the insert, in its transaction: they see what the previous holder committed with the lock's
      // release (which the insert may have waited for), and if one fails the run is not created.
      const [, thread] = await this.stores.pipelined((s) =>
        Promise.all([s.runs.insert(run), readThread(s, agentId, conversationId, systemId)]),
      );
      return thread;
    } catch (error) {
      if (this.constraints.isForeignKeyViolation(error)) throw missing('Agent', agentId);
      if (!this.constraints.isUniqueViolation(error)) throw error;
      const holder = await this.stores.runs.lockHolder(lock);
      const what = conversationId ? `Conversation ${conversationId}` : `Agent ${agentId}`;
      // Letta Code matches "is currently being processed" and reads run_id=… to retry on its own schedule.
      throw new CairnError(
        409,
        `Cannot send a new message: ${what} is currently being processed by another request (run_id=${holder ?? 'unknown'}). Please wait for the current run to finish, or cancel it.`,
        {
          'x-should-retry': 'false',
        },
      );
    }
  }

  /** Checks the send against the thread read under the run's lock (§5.6). */
  private async prepare(
    { agent, conversation, tools, system }: ThreadRead,
    { agentId, conversationId, lock }: ThreadKey,
    requestBody: SendMessageBody,
    send: ParsedSend,
  ): Promise<PreparedTurn> {
    if (!agent) throw missing('Agent', agentId);
    if (conversationId !== null && (!conversation || conversation.agent_id !== agentId))
      throw missing('Conversation', conversationId);
    const ids = inContextIdsOf(agent, conversation);
    // A conversation may run on a model of its own.
    const body = { ...requestBody, override_model: requestBody.override_model ?? conversation?.model ?? undefined };
    this.providers.resolve(modelHandleOf(agent, body.override_model));

    // The system row is never kept between turns (a memory edit rewrites it); the one read above is current.
    const inContext = await this.loop.rows.load(this.stores, ids, system);
    if (ids[0]) this.loop.rows.noteSystemId(lock, ids[0]);
    const last = inContext.at(-1);
    let approval: ApprovalInput | undefined;
    if (send.approvals.length > 0) {
      approval = await resolveApproval(last, normalizeApprovals(send.approvals), send.approvalOtid, (callIds) =>
        this.stores.messages.anyToolReturnFor(agentId, callIds),
      );
    } else if (last && isApprovalRequest(last)) {
      throw conflict({
        code: 'PENDING_APPROVAL',
        message:
          'Cannot send a new message: The agent is waiting for approval on a tool call. Please approve or deny the pending request before continuing.',
        pending_request_id: last.id,
      });
    }
    if (send.inputs.length === 0 && !approval) throw badRequest('No input messages to send');
    const thread: ThreadState = { ids, rows: inContext, tools: tools.get(agentId) ?? [] };
    return { agent, thread, body, approval };
  }

  private async execute(
    { agent, thread, body, approval }: PreparedTurn,
    { key, runId, live, abort, mode, inputs }: RunningTurn,
  ): Promise<TurnOutcome> {
    const { conversationId } = key;
    const includeTypes: readonly string[] | null | undefined = body.include_return_message_types;
    const streaming = mode === 'stream';
    const started = process.hrtime.bigint();
    const visible = (type: string) => !includeTypes || includeTypes.includes(type);
    const shown = (outcome: TurnOutcome): TurnOutcome => ({
      ...outcome,
      messages: outcome.messages.filter((m) => visible(m.message_type)),
    });
    // The final chunks (a follower in another process reads them) and the run's final state commit together, then
    // [DONE] goes out: a client that saw the end of the stream always finds the run finished and the thread unlocked.
    let recorded = false;
    const record = async (tx: Stores, outcome: TurnOutcome): Promise<AgentPatch> => {
      const ending = outcome.error
        ? {
            message_type: 'error_message',
            error_type: outcome.error.error_type,
            message: outcome.error.message,
            detail: outcome.error.detail,
          }
        : { ...outcome.usage };
      await live.finishInto(tx, [{ message_type: 'stop_reason', stop_reason: outcome.stopReason }, ending]);
      const completedAt = nowIso();
      const durationNs = Number(process.hrtime.bigint() - started);
      const final = outcome.error ? { error: outcome.error } : { result: lettaResponse(outcome) };
      // Nothing but this turn writes a run's metadata (a cancel sets only its status), so the one it was created with
      // is current. The same statement releases the turn lock.
      await tx.runs.recordEnd(runId, {
        status: runStatusFor(outcome.stopReason),
        stop_reason: outcome.stopReason,
        completed_at: completedAt,
        metadata: JSON.stringify({ ...runMetadataFor(mode), ...final }),
        usage: JSON.stringify(outcome.usage),
        total_duration_ns: durationNs,
        ttft_ns: outcome.ttftNs ?? null,
      });
      return {
        last_run_completion: completedAt,
        last_run_duration_ms: Math.round(durationNs / 1e6),
        last_stop_reason: outcome.stopReason,
      };
    };
    const committed = () => {
      live.publishFinal();
      recorded = true;
    };
    let outcome: TurnOutcome;
    try {
      if (mode === 'async') await this.stores.runs.update(runId, { status: 'running' });
      outcome = await this.loop.run({
        agent,
        thread,
        conversationId,
        runId,
        inputs,
        approval,
        maxSteps: body.max_steps ?? 50,
        clientTools: body.client_tools ?? [],
        clientSkills: body.client_skills ?? [],
        overrideModel: body.override_model ?? undefined,
        overrideSystem: body.override_system ?? body.system ?? undefined,
        streamTokens: streaming && body.stream_tokens === true,
        includeCompaction: body.include_compaction_messages === true,
        emit: (chunk) => {
          if (visible(chunk.message_type)) live.push({ ...chunk, run_id: runId });
        },
        signal: abort.signal,
        conclusion: { record: (tx, raw) => record(tx, shown(raw)), committed },
      });
    } catch (error) {
      this.logger.error({ err: error, runId }, 'turn failed');
      const failure = turnErrorFor(error);
      outcome = { stopReason: failure.stop, usage: emptyUsage(), messages: [], error: failure.error };
    }
    outcome = shown(outcome);
    // A turn that failed because the database did not answer may find it back moments later: its end (and the thread's
    // lock release) is tried again before it is left to the stale-run sweeper, which would hold the thread for a minute.
    for (const pause of [...RECORD_RETRY_MS, undefined]) {
      if (recorded) break;
      try {
        await this.stores.transaction(async (tx) => tx.agents.update(agent.id, await record(tx, outcome)));
        committed();
      } catch (error) {
        this.logger.error(
          { err: error, runId },
          pause === undefined ? 'recording the run result failed' : 'recording the run result failed; trying again',
        );
        if (pause !== undefined) await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
    this.live.delete(runId);
    await live.close();
    if (hasCallbackUrl(body)) void this.callback(body.callback_url!, runId);
    for (const listener of this.turnEndListeners) {
      try {
        listener({ agentId: agent.id, conversationId, runId, outcome });
      } catch (error) {
        this.logger.error({ err: error, runId }, 'a turn-end listener failed');
      }
    }
    return outcome;
  }

  /**
   * Cancelling a turn that stopped for approval answers every pending call with Letta's denial text, so the thread
   * stays valid (§5.6 step 6). Returns the run that asked for the approval, if any was pending.
   */
  private async denyPendingApproval(agentId: string, conversationId: string | null): Promise<string | undefined> {
    return this.stores.transaction(async (tx) => {
      const agent = await tx.agents.findById(agentId);
      if (!agent) return undefined;
      const ids = await inContextIds(tx, agent, conversationId);
      const last = ids.length ? await tx.messages.findById(ids.at(-1)!) : undefined;
      if (!last || !isApprovalRequest(last)) return undefined;
      const ctx = { agentId, conversationId, runId: last.run_id, stepId: null, model: last.model };
      const calls = toolCallsOf(last);
      const rows = [
        messageRow(ctx, 'approval', [], {
          approvals: JSON.stringify(
            calls.map((c) => ({ type: 'approval', tool_call_id: c.id, approve: false, reason: CANCELLED_DENIAL })),
          ),
          approval_request_id: last.id,
          approve: 0,
          denial_reason: CANCELLED_DENIAL,
        }),
        ...calls.map((c) =>
          toolReturnRow(ctx, agent.timezone, c.id, c.function.name, { status: 'error', funcReturn: CANCELLED_DENIAL }),
        ),
      ];
      await tx.messages.insertMany(rows);
      await setInContextIds(tx, agentId, conversationId, [...ids, ...rows.map((r) => r.id)], nowIso());
      return last.run_id ?? last.id;
    });
  }

  /** POSTs `{run_id, status, completed_at, metadata}` to the run's `callback_url` (§4.8), 5 s timeout, best effort. */
  private async callback(url: string, runId: string): Promise<void> {
    const run = await this.stores.runs.findById(runId);
    if (!run) return;
    try {
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          run_id: runId,
          status: run.status,
          completed_at: run.completed_at,
          metadata: parseJson(run.metadata, null),
        }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      this.logger.warn({ err: error, runId }, 'run callback failed');
    }
  }

  /** Marks runs cancelled in the database (seen by any process at its next step boundary) and aborts local ones now. */
  async cancel(
    agentId: string,
    conversationId: string | null | undefined,
    runIds?: string[] | null,
  ): Promise<Record<string, string>> {
    const ids = runIds?.length ? runIds : await this.stores.runs.activeRunIds(agentId, conversationId);
    if (ids.length === 0) {
      const denied = await this.denyPendingApproval(agentId, conversationId ?? null);
      if (denied) return { [denied]: 'cancelled' };
      throw conflict('No active runs to cancel');
    }
    const result: Record<string, string> = {};
    for (const id of ids) {
      const ok = await this.stores.runs.finishIfActive(id, {
        status: 'cancelled',
        stop_reason: 'cancelled',
        completed_at: nowIso(),
      });
      result[id] = ok ? 'cancelled' : 'failed';
      this.live.get(id)?.abort.abort();
    }
    return result;
  }
}

const hasCallbackUrl = (body: SendMessageBody): boolean =>
  typeof body.callback_url === 'string' && body.callback_url.length > 0;
