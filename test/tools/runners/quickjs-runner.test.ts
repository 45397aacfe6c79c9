import { afterAll, describe, expect, it } from 'vitest';
import { orderedArguments, QuickJsRunner } from '../../../src/tools/runners/quickjs-runner.js';
import type { ToolRunRequest } from '../../../src/tools/runners/types.js';
import { expectServingWhileFourSpin } from './support.js';

const HOSTILE_JS = `
export async function hostile(action: string, path?: string): Promise<unknown> {
  const g: any = globalThis;
  if (action === 'read_file') return g.require('fs').readFileSync(path ?? '/etc/passwd', 'utf8');
  if (action === 'import_fs') return await import('fs');
  if (action === 'socket') return await g.fetch('http://127.0.0.1:1/');
  if (action === 'globals') return [typeof g.process.exit, typeof g.require, typeof g.fetch, typeof g.setTimeout, typeof g.WebAssembly];
  if (action === 'loop') for (;;) {}
  if (action === 'allocate') { const hoard: string[] = []; for (;;) hoard.push('x'.repeat(1 << 20) + hoard.length); }
  if (action === 'print_100mb') { const chunk = 'x'.repeat(1 << 20); for (let i = 0; i < 100; i++) console.log(chunk); return 'printed'; }
  if (action === 'never_return') return new Promise(() => {});
  return 'ok';
}
`;

function jsRequest(overrides: Partial<ToolRunRequest> = {}): ToolRunRequest {
  return {
    sourceCode: HOSTILE_JS,
    sourceType: 'typescript',
    functionName: 'hostile',
    args: { action: 'nothing' },
    envVars: {},
    agentState: null,
    pipRequirements: [],
    jsonSchema: { parameters: { properties: { action: {}, path: {} }, required: ['action'] } },
    timeoutMs: 2_000,
    outputLimitBytes: 1024 * 1024,
    ...overrides,
  };
}

describe('QuickJS runner', () => {
  const runner = new QuickJsRunner({ poolSize: 2, warm: 1 });
  afterAll(() => runner.close());

  it('runs TypeScript and JavaScript tools with positional arguments in schema order', async () => {
    const source =
      'export function divide(a: number, b: number): { q: number; who?: string } { console.log("dividing"); return { q: a / b, who: process.env.LETTA_AGENT_ID }; }';
    const request = {
      sourceCode: source,
      functionName: 'divide',
      // Written out of order: Letta calls with required parameters first, in the schema's order.
      args: { b: 4, a: 10 },
      envVars: { LETTA_AGENT_ID: 'agent-9' },
      jsonSchema: { parameters: { properties: { a: {}, b: {} }, required: ['a', 'b'] } },
    };
    expect(await runner.run(jsRequest(request))).toEqual({
      status: 'success',
      funcReturn: { q: 2.5, who: 'agent-9' },
      stdout: ['dividing\n'],
      stderr: [],
    });
    const plain = await runner.run(
      jsRequest({
        ...request,
        sourceType: 'javascript',
        sourceCode: 'async function divide(a, b) { await null; return a / b; }',
      }),
    );
    expect(plain).toMatchObject({ status: 'success', funcReturn: 2.5 });
    expect(
      orderedArguments({
        args: { z: 1, b: 2, a: 3 },
        jsonSchema: { parameters: { properties: { a: {}, b: {} }, required: ['b'] } },
      }),
    ).toEqual([2, 3, 1]);
  });

  it("reports a thrown error in Letta's words", async () => {
    const result = await runner.run(
      jsRequest({ sourceType: 'javascript', sourceCode: 'function hostile() { throw new RangeError("too far"); }' }),
    );
    expect(result).toMatchObject({
      status: 'error',
      funcReturn: 'Error executing function hostile: RangeError: too far',
    });
  });

  it('contains hostile tools within the timeout and keeps serving', async () => {
    const expectations: [Record<string, unknown>, RegExp][] = [
      [{ action: 'read_file' }, /TypeError/],
      [{ action: 'import_fs' }, /Error/],
      [{ action: 'socket' }, /TypeError/],
      [{ action: 'loop' }, /TimeoutError/],
      [{ action: 'allocate' }, /out of memory|InternalError|TimeoutError/],
      [{ action: 'print_100mb' }, /OutputLimitExceeded/],
      [{ action: 'never_return' }, /never settled|TimeoutError/],
    ];
    for (const [args, message] of expectations) {
      const started = performance.now();
      const result = await runner.run(jsRequest({ args }));
      expect(result.status, JSON.stringify(args)).toBe('error');
      expect(String(result.funcReturn), JSON.stringify(args)).toMatch(message);
      expect(performance.now() - started).toBeLessThan(2_000 + 10_000);
    }
    const globals = await runner.run(jsRequest({ args: { action: 'globals' } }));
    expect(globals.funcReturn).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
    expect(await runner.run(jsRequest())).toMatchObject({ status: 'success', funcReturn: 'ok' });
  }, 120_000);

  it(
    'never blocks the event loop while 4 tools spin',
    () => expectServingWhileFourSpin('quickjs', runner, jsRequest({ args: { action: 'loop' } })),
    60_000,
  );
});
