import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';

// Found by the fuzz campaign: PostgreSQL refuses to index a value over ~8 kB (SQLSTATE 54000), which was a 500.
describe.each(testDialects())('a value too long to index [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect);
  });
  afterAll(() => server.close());

  it('is refused with a 400 naming the cause, or stored, never a 500', async () => {
    // Pseudo-random letters: a repetitive value compresses below the index limit.
    let seed = 1;
    const name = Array.from({ length: 9000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return String.fromCharCode(97 + (seed % 26));
    }).join('');
    const outcome = await server.client.folders.create({ name }).then(
      (folder) => ({ status: 200, name: folder.name }),
      (error: { status: number; error: { detail: string } }) => ({ status: error.status, detail: error.error.detail }),
    );
    if (dialect === 'postgres')
      expect(outcome).toMatchObject({ status: 400, detail: expect.stringContaining('too long') });
    else expect(outcome).toEqual({ status: 200, name });
  });
});
