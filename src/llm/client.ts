import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3Content,
  LanguageModelV3FinishReason,
  LanguageModelV3StreamPart,
  LanguageModelV3Usage,
  SharedV3ProviderMetadata,
} from '@ai-sdk/provider';
import type { Logger } from 'pino';
import { classifyError, type ClassifiedError } from './errors.js';
import { toCallOptions } from './prompt.js';
import type { LlmCallSettings, ProviderSettings } from './settings.js';
import {
  LlmError,
  type LlmClient,
  type LlmFinishReason,
  type LlmReasoning,
  type LlmRequest,
  type LlmResponse,
  type LlmStreamEvent,
  type LlmToolCall,
  type LlmUsage,
} from './types.js';

/**
 * One model behind the seam. It calls the AI SDK provider model's `doGenerate`/`doStream` directly rather than
 * `generateText`/`streamText`: those parse tool-call arguments against schemas (and would hand the loop a parsed
 * object, or drop the call into a repair path), run their own retries and multi-step logic. At this level tool-call
 * `input` is the raw JSON text the model produced, malformed or not, which is what the loop must see.
 */
export class AiSdkLlmClient implements LlmClient {
  constructor(
    private readonly model: LanguageModelV3,
    private readonly provider: ProviderSettings,
    private readonly settings: LlmCallSettings,
    private readonly logger: Logger,
  ) {}

  async complete(request: LlmRequest, onEvent?: (event: LlmStreamEvent) => void): Promise<LlmResponse> {
    const options = toCallOptions(request, this.provider);
    for (let attempt = 0; ; attempt++) {
      let streamed = false;
      const emit = onEvent
        ? (event: LlmStreamEvent) => {
            streamed = true;
            onEvent(event);
          }
        : undefined;
      const control = new CallControl(request.signal);
      const started = Date.now();
      let wait: number | undefined;
      try {
        const response = emit ? await this.stream(options, control, emit) : await this.generate(options, control);
        this.logger.debug(
          { handle: request.handle, attempt, ms: Date.now() - started, usage: response.usage },
          'llm call',
        );
        return requireContent(response, this.provider.name);
      } catch (thrown) {
        const failure = control.explain(thrown, this.provider.name);
        // Deltas already sent to the client cannot be taken back, so a call that streamed anything is not retried.
        wait =
          failure.retryable && !streamed && attempt < this.settings.maxRetries
            ? this.backoff(attempt, failure)
            : undefined;
        if (wait === undefined) throw failure.error;
        this.logger.warn(
          {
            handle: request.handle,
            attempt: attempt + 1,
            kind: failure.error.kind,
            status: failure.error.status,
            waitMs: Math.round(wait),
            err: failure.error.message,
          },
          'llm call failed; retrying',
        );
      } finally {
        control.dispose();
      }
      await sleep(wait, request.signal);
    }
  }

  /** Exponential backoff with jitter, or the provider's `retry-after` when it gave one (unless it is too long). */
  private backoff(attempt: number, failure: ClassifiedError): number | undefined {
    if (failure.retryAfterMs !== undefined)
      return failure.retryAfterMs > this.settings.maxRetryWaitMs
        ? undefined
        : failure.retryAfterMs + Math.random() * 0.1 * failure.retryAfterMs;
    const ceiling = this.settings.retryBaseMs * 2 ** attempt;
    return Math.min(ceiling / 2 + (Math.random() * ceiling) / 2, this.settings.maxRetryWaitMs);
  }

  private async generate(options: LanguageModelV3CallOptions, control: CallControl): Promise<LlmResponse> {
    control.arm(this.settings.requestTimeoutMs, 'request');
    const result = await control.race(this.model.doGenerate({ ...options, abortSignal: control.signal }));
    const out = new ResponseBuilder(this.model.modelId);
    for (const part of result.content) out.addContent(part);
    out.finish(result.finishReason, result.usage, result.response?.modelId);
    return out.build();
  }

  private async stream(
    options: LanguageModelV3CallOptions,
    control: CallControl,
    emit: (event: LlmStreamEvent) => void,
  ): Promise<LlmResponse> {
    // Until the response starts, the request timeout applies; then the request timeout bounds each silence between
    // chunks (a stalled stream) and the stream timeout bounds the whole stream.
    control.arm(this.settings.requestTimeoutMs, 'request');
    const { stream } = await control.race(this.model.doStream({ ...options, abortSignal: control.signal }));
    control.armTotal(this.settings.streamTimeoutMs);
    const out = new ResponseBuilder(this.model.modelId);
    const reader = stream.getReader();
    // An abort (timeout, cancel) cancels the reader, which ends a pending read at once. (A race per part would leave
    // one reaction per part on the attempt's abort promise until the call ends: thousands for a long answer.)
    const stopReading = () => void reader.cancel().catch(() => undefined);
    control.signal.addEventListener('abort', stopReading, { once: true });
    try {
      for (;;) {
        control.arm(this.settings.requestTimeoutMs, 'idle');
        const { done, value } = await reader.read();
        // Checked after the read: an abort before it either cancelled the reader (the read ends at once) or came
        // before the listener, and the first read's answer is not used.
        if (control.signal.aborted) throw ABORTED;
        if (done) break;
        out.addStreamPart(value, emit);
      }
    } finally {
      control.signal.removeEventListener('abort', stopReading);
      reader.cancel().catch(() => undefined);
    }
    return out.build();
  }
}

function requireContent(response: LlmResponse, provider: string): LlmResponse {
  if (response.text.trim() || response.toolCalls.length || response.reasoning.length) return response;
  throw new LlmError(
    'empty_response',
    `${provider}: the model returned no content and no tool calls (finish reason: ${response.finishReason})`,
  );
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LlmError('cancelled', 'The request was cancelled.'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LlmError('cancelled', 'The request was cancelled.'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Thrown when an attempt is aborted; `CallControl.explain` says why. Made once: an Error's stack costs. */
const ABORTED = new Error('aborted');
/** The abort reason once an attempt is over, which ends any request still open (a DOMException per call costs). */
const CALL_OVER = new Error('the model call is over');

/**
 * The abort signal and timers of one attempt. A timeout aborts the HTTP request (so a hung provider releases its
 * socket) and is reported as `timeout`; the caller's own signal is reported as `cancelled`.
 */
class CallControl {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timerPhase: 'request' | 'idle' | undefined;
  private totalTimer: NodeJS.Timeout | undefined;
  private timedOut: string | undefined;
  private readonly aborted: Promise<never>;
  private readonly onCallerAbort = () => this.controller.abort();

  constructor(private readonly caller: AbortSignal | undefined) {
    if (caller?.aborted) this.controller.abort();
    caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    this.aborted = new Promise<never>((_, reject) =>
      this.controller.signal.addEventListener('abort', () => reject(ABORTED), { once: true }),
    );
    this.aborted.catch(() => undefined);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(ms: number, phase: 'request' | 'idle'): void {
    // Re-armed for every stream part: the same timer restarts instead of a new one each time.
    if (this.timer !== undefined && this.timerPhase === phase) {
      this.timer.refresh();
      return;
    }
    clearTimeout(this.timer);
    this.timerPhase = phase;
    this.timer = setTimeout(
      () =>
        this.expire(
          phase === 'request' ? `did not answer within ${ms / 1000}s` : `stream stalled for ${ms / 1000}s`,
          'LETTA_LLM_REQUEST_TIMEOUT_SECONDS',
        ),
      ms,
    );
  }

  armTotal(ms: number): void {
    this.totalTimer = setTimeout(
      () => this.expire(`stream did not finish within ${ms / 1000}s`, 'LETTA_LLM_STREAM_TIMEOUT_SECONDS'),
      ms,
    );
  }

  /** Settles with `work`, or rejects as soon as the attempt is aborted (a pending fetch or read may not notice). */
  race<T>(work: PromiseLike<T>): Promise<T> {
    return Promise.race([work, this.aborted]);
  }

  explain(thrown: unknown, provider: string): ClassifiedError {
    if (this.caller?.aborted)
      return { error: new LlmError('cancelled', 'The request was cancelled.'), retryable: false };
    // The shared ABORTED says nothing more than the timeout does, and its stack is the module's load.
    if (this.timedOut)
      return {
        error: new LlmError(
          'timeout',
          `${provider}: ${this.timedOut}`,
          undefined,
          thrown === ABORTED ? undefined : { cause: thrown },
        ),
        retryable: false,
      };
    return classifyError(thrown, provider);
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearTimeout(this.totalTimer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    // Ends any request still open (a stream the caller stopped reading, a failed attempt's body).
    if (!this.controller.signal.aborted) this.controller.abort(CALL_OVER);
  }

  private expire(what: string, setting: string): void {
    this.timedOut = `${what} (${setting})`;
    this.controller.abort();
  }
}

const FINISH: Record<LanguageModelV3FinishReason['unified'], LlmFinishReason> = {
  stop: 'stop',
  length: 'length',
  'content-filter': 'content_filter',
  'tool-calls': 'tool_calls',
  error: 'error',
  other: 'other',
};

function anthropicMeta(meta: SharedV3ProviderMetadata | undefined): { signature?: string; redactedData?: string } {
  const value = meta?.anthropic as { signature?: unknown; redactedData?: unknown } | undefined;
  return {
    ...(typeof value?.signature === 'string' ? { signature: value.signature } : {}),
    ...(typeof value?.redactedData === 'string' ? { redactedData: value.redactedData } : {}),
  };
}

/** Accumulates one response from generated content or stream parts. */
class ResponseBuilder {
  private text = '';
  private readonly reasoning = new Map<string, LlmReasoning>();
  private readonly toolCalls: LlmToolCall[] = [];
  private readonly startedCalls = new Set<string>();
  private finishReason: LlmFinishReason = 'other';
  private usage: LlmUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

  constructor(private model: string) {}

  addContent(part: LanguageModelV3Content): void {
    if (part.type === 'text') this.text += part.text;
    else if (part.type === 'reasoning')
      this.addReasoning(String(this.reasoning.size), part.text, part.providerMetadata);
    else if (part.type === 'tool-call' && !part.providerExecuted)
      this.toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
  }

  addStreamPart(part: LanguageModelV3StreamPart, emit: (event: LlmStreamEvent) => void): void {
    switch (part.type) {
      case 'text-delta':
        this.text += part.delta;
        if (part.delta) emit({ type: 'text-delta', delta: part.delta });
        return;
      case 'reasoning-start':
        this.addReasoning(part.id, '', part.providerMetadata);
        return;
      case 'reasoning-delta':
        this.addReasoning(part.id, part.delta, part.providerMetadata);
        if (part.delta) emit({ type: 'reasoning-delta', delta: part.delta });
        return;
      case 'tool-input-start':
        this.startedCalls.add(part.id);
        emit({ type: 'tool-call-start', id: part.id, name: part.toolName });
        return;
      case 'tool-input-delta':
        if (part.delta) emit({ type: 'tool-call-delta', id: part.id, argumentsDelta: part.delta });
        return;
      case 'tool-call':
        if (part.providerExecuted) return;
        // Some servers send a whole call without input events; the client still sees a start and the arguments.
        if (!this.startedCalls.has(part.toolCallId)) {
          emit({ type: 'tool-call-start', id: part.toolCallId, name: part.toolName });
          if (part.input) emit({ type: 'tool-call-delta', id: part.toolCallId, argumentsDelta: part.input });
        }
        this.toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
        return;
      case 'response-metadata':
        if (part.modelId) this.model = part.modelId;
        return;
      case 'finish':
        this.finish(part.finishReason, part.usage);
        return;
      case 'error':
        // The provider's error object (or an Error); `CallControl.explain` classifies it like an HTTP error.
        throw part.error;
      default:
        return;
    }
  }

  finish(reason: LanguageModelV3FinishReason, usage: LanguageModelV3Usage, model?: string): void {
    this.finishReason = FINISH[reason.unified] ?? 'other';
    const prompt = usage.inputTokens.total ?? 0;
    const completion = usage.outputTokens.total ?? 0;
    this.usage = {
      promptTokens: prompt,
      completionTokens: completion,
      totalTokens: prompt + completion,
      ...(usage.inputTokens.cacheRead !== undefined ? { cachedInputTokens: usage.inputTokens.cacheRead } : {}),
      ...(usage.inputTokens.cacheWrite !== undefined ? { cacheWriteTokens: usage.inputTokens.cacheWrite } : {}),
      ...(usage.outputTokens.reasoning !== undefined ? { reasoningTokens: usage.outputTokens.reasoning } : {}),
    };
    if (model) this.model = model;
  }

  build(): LlmResponse {
    const reasoning = [...this.reasoning.values()].filter((r) => r.text || r.redacted !== undefined);
    return {
      text: this.text,
      reasoning,
      toolCalls: this.toolCalls,
      finishReason: this.finishReason,
      usage: this.usage,
      model: this.model,
    };
  }

  private addReasoning(id: string, text: string, meta: SharedV3ProviderMetadata | undefined): void {
    const entry = this.reasoning.get(id) ?? { text: '' };
    entry.text += text;
    const { signature, redactedData } = anthropicMeta(meta);
    if (signature !== undefined) entry.signature = signature;
    if (redactedData !== undefined) entry.redacted = redactedData;
    this.reasoning.set(id, entry);
  }
}
