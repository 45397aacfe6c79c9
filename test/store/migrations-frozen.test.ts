import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations/index.js';

/**
 * A migration that has shipped never changes: databases that already ran it would silently differ from new ones.
 * Each file's hash is recorded here when it ships; a new migration adds its line, an edited one fails.
 */
const SHIPPED: Record<string, string> = {
  '0001-core.ts': 'a891e07488f0906252482308dda4406e7c6cd01df6d14d6dd85d54023eba237f',
  '0002-messages.ts': '5b3b2088f817f8bd100576a65511e32423a76771080fdcac6f7acbf74e339d0f',
  '0003-archival.ts': 'c99534341ad8f50b8a84bf48a0f0ecd38a2242417f322f1fa7536065b076c0cb',
  '0004-runs.ts': '7aac0e19cd7b500f7f0d728564f90517b53fc2b2abe829d89705f8f8d41c84aa',
  '0006-vector-change-counters.ts': 'b105543ee438f217da174377c82ffe687b6a373dbe5136f46fb53920a3faa5b8',
  '0007-passage-text-counters.ts': '1ce02095dc7fd55e6781f2b5f9b35db9e3d7422d3f6ae22f53511e4f47213e99',
  '0008-run-thread-lock.ts': '5f9cffcaa0d21fdeaf74b1ade424b1127dc47006a76f540ab649a68fd81f9edd',
  '0009-block-history.ts': '2c4211ede2112def55b1e5fccb8094b58c6d861d7bbbefc8a9c4ed2bed29ecc8',
  '0011-message-vectors.ts': '2d99cd92a9907304e32dff5d1282b3af9b6c71f4c3aed78b9793500c3d95a1c6',
  '0012-mcp-servers.ts': 'e2d03609e796efff10e67cd6bf0cbe037c8a352a5a1ce7191cdfa799b65564ab',
  '0013-groups.ts': 'ca988482009af4197748457f6cfb30d6810e22a51ed62f1ac6bfc216a5e18645',
  '0014-folders.ts': 'a3779cc753cfb1404f5acca6de31299e72554505b8d83ba96282b59ee4ee290a',
  '0015-git-memory.ts': '9b4db99821e6728b494bb70e429e8e360b335c833cab11e556aad54842b58a40',
  '0016-providers.ts': '549cb82e794f2afbc0e3b1fafa36e52f07f31749f959bdd708516e879c9a35ee',
  '0017-tenancy.ts': 'db9de8e435c0f7b4dcfc57a5db3d6452bc890974f4c4b99dc883edce96f54559',
  '0018-file-heartbeats.ts': '4c38ba2fffd3413eee3f3c049bbe5b3d16e6a3d264f5372ffaf7d9d1b1c28c4f',
};

const dir = resolve(import.meta.dirname, '../../src/store/migrations');
const files = readdirSync(dir).filter((f) => /^\d{4}-.*\.ts$/.test(f));

describe('migrations', () => {
  it('are unchanged since they shipped', () => {
    const hashes = Object.fromEntries(
      files.map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
    );
    expect(hashes).toEqual(SHIPPED);
  });

  it('call no code but Kysely (types aside), so a change elsewhere cannot change them', () => {
    for (const file of files) {
      const source = ts.createSourceFile(file, readFileSync(join(dir, file), 'utf8'), ts.ScriptTarget.Latest);
      const valueImports = source.statements
        .filter(ts.isImportDeclaration)
        .filter((d) => !d.importClause?.isTypeOnly)
        .map((d) => (d.moduleSpecifier as ts.StringLiteral).text);
      expect({ file, valueImports: valueImports.filter((m) => m !== 'kysely') }).toEqual({ file, valueImports: [] });
    }
  });

  it('are all registered, in file order', () => {
    expect(Object.keys(migrations).map((name) => `${name}.ts`)).toEqual([...files].sort());
  });
});
