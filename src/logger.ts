import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs on stderr, so stdout stays free for protocols (MCP stdio, hooks). Credentials are redacted.
 * `destination`: a file descriptor, or a stream (tests keep the lines).
 */
export function createLogger(level: string, destination: number | DestinationStream = 2): Logger {
  return pino(
    {
      level,
      base: { service: 'cairn' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-bare-password"]',
          'headers.authorization',
          'headers["x-bare-password"]',
          '*.password',
          '*.apiKey',
          '*.api_key',
        ],
        censor: '[redacted]',
      },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: false }) : destination,
  );
}
