import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from '../../src/http/request-logger.js';
import { createCairn, type Cairn } from '../../src/server.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/cairn.js';

/** A pino logger with Cairn's redaction that keeps its lines in memory. */
function memoryLogger(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

describe('request loggers', () => {
  let cairn: Cairn | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cairn?.close();
    await drop?.();
    cairn = drop = undefined;
  });

  async function start(level: string) {
    const database = await createTestDatabase('sqlite');
    drop = () => database.drop();
    const { logger, lines } = memoryLogger(level);
    cairn = await createCairn(loadConfig({ port: 0, host: '127.0.0.1', dataDir: database.dataDir }, {}), logger);
    return lines;
  }

  it('carry the request id on every line a request writes, at the levels enabled', async () => {
    const lines = await start('debug');
    const first = await cairn!.app.inject({ method: 'GET', url: '/v1/health' });
    const second = await cairn!.app.inject({
      method: 'GET',
      url: '/v1/agents/agent-00000000-0000-4000-8000-000000000000',
    });
    expect([first.statusCode, second.statusCode]).toEqual([200, 404]);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.map((l) => [l.url, l.status])).toEqual([
      ['/v1/health', 200],
      ['/v1/agents/agent-00000000-0000-4000-8000-000000000000', 404],
    ]);
    expect(requests.map((l) => l.reqId)).toEqual(['req-1', 'req-2']);
  });

  it('write nothing below the logger level, and keep child bindings and redaction', async () => {
    const lines = await start('warn');
    await cairn!.app.inject({ method: 'GET', url: '/v1/health' });
    expect(lines.filter((l) => l.msg === 'request')).toEqual([]);

    const { logger, lines: probeLines } = memoryLogger('warn');
    const app = Fastify({ loggerInstance: logger, childLoggerFactory: lazyChildLogger, disableRequestLogging: true });
    app.get('/probe', async (request) => {
      request.log.info('not written');
      request.log.warn({ body: { password: 'hunter2' } }, 'probe');
      request.log.child({ part: 'inner' }).error('inner probe');
      return { level: request.log.level };
    });
    app.get('/quiet', async (request) => {
      request.log.debug('not written');
      return {};
    });
    await app.ready();
    // The child is made by the first line written, once; a request that writes nothing never makes one.
    const made = vi.spyOn(logger, 'child');
    await app.inject({ method: 'GET', url: '/quiet' });
    expect(made).not.toHaveBeenCalled();
    const probe = await app.inject({ method: 'GET', url: '/probe' });
    expect(made.mock.calls.map((call) => call[0])).toEqual([{ reqId: 'req-2' }, { part: 'inner' }]);
    await app.close();
    expect(probe.json()).toEqual({ level: 'warn' });
    expect(probeLines.map((l) => [l.msg, l.reqId, l.part])).toEqual([
      ['probe', 'req-2', undefined],
      ['inner probe', 'req-2', 'inner'],
    ]);
    expect(probeLines[0]!.body).toEqual({ password: '[redacted]' });
  });
});
