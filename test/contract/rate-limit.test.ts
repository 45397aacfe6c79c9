import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startCairn, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';

describe('per-key rate limit (CAIRN_RATE_LIMIT)', () => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn('sqlite', {}, { CAIRN_RATE_LIMIT: '5', LETTA_SERVER_PASSWORD: 'right' });
  });
  afterAll(async () => server?.close());

  const list = (key: string) =>
    http('GET', `${server.baseURL}/v1/agents/`, undefined, { authorization: `Bearer ${key}` });

  it('answers 429 with retry-after once a key has spent its minute, and counts each key on its own', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await list('right')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await list('right');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body.detail).toMatch(/Rate limit exceeded: 5 requests per minute/);
    // A wrong password has a budget of its own, so guessing is limited too, and health probes are never limited.
    const guesses = [];
    for (let i = 0; i < 6; i += 1) guesses.push((await list('wrong')).status);
    expect(guesses).toEqual([401, 401, 401, 401, 401, 429]);
    for (let i = 0; i < 10; i += 1) expect((await http('GET', `${server.baseURL}/v1/health/`)).status).toBe(200);
  });

  it('is off by default and refuses a value that is not a count', () => {
    expect(loadConfig({}, {}).rateLimitPerMinute).toBe(0);
    expect(() => loadConfig({}, { CAIRN_RATE_LIMIT: 'fast' })).toThrow(/invalid CAIRN_RATE_LIMIT/);
  });
});
