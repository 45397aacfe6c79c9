import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';
import * as core from './0001-core.js';
import * as messages from './0002-messages.js';
import * as archival from './0003-archival.js';
import * as runs from './0004-runs.js';
import * as vectorCounters from './0006-vector-change-counters.js';
import * as textCounters from './0007-passage-text-counters.js';
import * as runThreadLock from './0008-run-thread-lock.js';
import * as blockHistory from './0009-block-history.js';
import * as mcpServers from './0012-mcp-servers.js';
import * as groups from './0013-groups.js';
import * as folders from './0014-folders.js';
import * as gitMemory from './0015-git-memory.js';
import * as providers from './0016-providers.js';
import * as messageVectors from './0011-message-vectors.js';
import * as tenancy from './0017-tenancy.js';
import * as fileHeartbeats from './0018-file-heartbeats.js';

export interface MigrationModule {
  /** `db` untyped: a migration must not depend on today's schema types. */
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

/**
 * Forward-only, applied in key order at startup. A shipped migration is frozen (test/store/migrations-frozen.test.ts):
 * never edit one, add a new one. There is no 0005: no migration of that number was ever committed, and the
 * migrator records migrations by name, so the numbers already applied stay as they are.
 */
export const migrations: Record<string, MigrationModule> = {
  '0001-core': core,
  '0002-messages': messages,
  '0003-archival': archival,
  '0004-runs': runs,
  '0006-vector-change-counters': vectorCounters,
  '0007-passage-text-counters': textCounters,
  '0008-run-thread-lock': runThreadLock,
  '0009-block-history': blockHistory,
  '0011-message-vectors': messageVectors,
  '0012-mcp-servers': mcpServers,
  '0013-groups': groups,
  '0014-folders': folders,
  '0015-git-memory': gitMemory,
  '0016-providers': providers,
  '0017-tenancy': tenancy,
  '0018-file-heartbeats': fileHeartbeats,
};
