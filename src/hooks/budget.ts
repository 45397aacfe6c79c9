/**
 * A hook process's wall-clock budget, counted from the moment the process started (`performance.now()` is
 * milliseconds since the process's time origin), so Node's start-up, reading stdin, every request and every
 * response body share one total. Claude Code waits for the process, not for any one request: a per-request
 * timeout lets a hook that makes three calls to a server that never answers take three timeouts, and the SDK's
 * timeout stops at the response headers, so a server trickling its body holds the hook for as long as it likes.
 */
export class Budget {
  /** Aborts when the budget is spent. Its timer does not keep the process alive. */
  readonly signal: AbortSignal;

  constructor(
    readonly totalMs: number,
    now = performance.now(),
  ) {
    this.signal = AbortSignal.timeout(Math.max(0, Math.ceil(totalMs - now)));
  }

  remainingMs(): number {
    return Math.max(0, this.totalMs - performance.now());
  }

  get spent(): boolean {
    return this.signal.aborted;
  }

  /** Whether any request made through `bound` got a response (status and headers) before the budget ran out. */
  serverAnswered = false;

  /** `fetch` with every request cut off, body included, when the budget is spent. */
  bound(inner: typeof fetch): typeof fetch {
    return async (input, init = {}) => {
      const signal = init.signal ? AbortSignal.any([init.signal, this.signal]) : this.signal;
      const response = await inner(input, { ...init, signal });
      this.serverAnswered = true;
      return response;
    };
  }
}
