/**
 * How work held in one process's memory (a turn, an upload being parsed) is told apart from work whose process died:
 * the owner refreshes a heartbeat every `heartbeatMs`, and any process fails work whose heartbeat is older than
 * `staleMs`. Several processes may share a PostgreSQL database, so whichever notices first does it.
 */
export interface StaleTiming {
  heartbeatMs: number;
  staleMs: number;
}

export const DEFAULT_STALE_TIMING: StaleTiming = { heartbeatMs: 10_000, staleMs: 60_000 };

/** Six heartbeats fit in the stale window, so a few slow or failed refreshes never make live work look dead. */
export const staleTimingAfter = (staleMs: number): StaleTiming => ({ heartbeatMs: Math.ceil(staleMs / 6), staleMs });

export interface HeartbeatSweepOptions {
  timing: StaleTiming;
  /** An embedded SQLite file has one server process: at startup everything still in progress is an orphan. */
  soleProcess: boolean;
  heartbeat(now: string): Promise<void>;
  /** Fails what went silent before `before`. */
  sweep(before: string, now: string): Promise<void>;
  onError(error: unknown): void;
}

export interface HeartbeatSweep {
  /** Settles once the first heartbeat and sweep have run (at startup on SQLite, every orphan is failed by then). */
  first: Promise<void>;
  stop(): void;
}

export function startHeartbeatSweep(options: HeartbeatSweepOptions): HeartbeatSweep {
  let orphansOnly = options.soleProcess;
  const tick = async () => {
    try {
      const now = Date.now();
      await options.heartbeat(new Date(now).toISOString());
      const before = orphansOnly ? now + 1 : now - options.timing.staleMs;
      orphansOnly = false;
      await options.sweep(new Date(before).toISOString(), new Date(now).toISOString());
    } catch (error) {
      options.onError(error);
    }
  };
  const first = tick();
  const timer = setInterval(() => void tick(), options.timing.heartbeatMs);
  timer.unref();
  return { first, stop: () => clearInterval(timer) };
}
