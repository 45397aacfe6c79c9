import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startCairn, type TestCairn, type TestDialect } from '../support/cairn.js';
import { startFakeLlm, type FakeLlm } from '../support/fake-llm.js';

export interface RuntimeHarness {
  server: TestCairn;
  llm: FakeLlm;
}

/**
 * Cairn with its real providers pointed at the scripted fake LLM server, one per describe block; the script is
 * cleared before each test. One provider retry keeps failure tests quick while still exercising the retry path.
 */
export function useRuntime(dialect: TestDialect, env: Record<string, string> = {}): RuntimeHarness {
  const h = {} as RuntimeHarness;
  beforeAll(async () => {
    h.llm = await startFakeLlm();
    h.server = await startCairn(
      dialect,
      {},
      h.llm.env({ CAIRN_LLM_MAX_RETRIES: '1', LETTA_LLM_REQUEST_TIMEOUT_SECONDS: '2', ...env }),
    );
  });
  afterAll(async () => {
    await h.server?.close();
    await h.llm?.close();
  });
  beforeEach(() => h.llm.reset());
  return h;
}

export const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
};
