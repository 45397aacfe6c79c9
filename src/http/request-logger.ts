import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Fastify gives every request a child logger, and pino serialises and redacts a child's bindings when it is made:
 * ~0.15 ms of CPU per request, and most requests never log a line. This child is made at the first call that would
 * write, with the same bindings, so what is logged does not change.
 */
class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  write(level: Level, args: unknown[]): void {
    if (!this.made && (this.parent as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.(level) === false)
      return;
    (this.real[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

interface LazyChildLogger extends Record<Level, (...args: unknown[]) => void> {}
for (const level of LEVELS) {
  LazyChildLogger.prototype[level] = function (this: LazyChildLogger, ...args: unknown[]) {
    this.write(level, args);
  };
}

/** Fastify's `childLoggerFactory`. A route with its own log level or serializers gets a real child at once. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  return new LazyChildLogger(logger, bindings) as unknown as FastifyBaseLogger;
}
