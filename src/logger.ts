import pino, { type Logger } from 'pino';

/** Structured logs on stderr, so stdout stays free for protocols (MCP stdio, hooks). Credentials are redacted. */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { service: 'cairn' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-bare-password"]', 'headers.authorization', 'headers["x-bare-password"]', '*.password', '*.apiKey', '*.api_key'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: destination, sync: false }),
  );
}
