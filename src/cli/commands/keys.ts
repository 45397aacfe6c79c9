import type { Command } from 'commander';
import type { ApiKeyInfo, TenancyService } from '../../services/tenancy.service.js';
import { action } from '../common.js';
import { print, table, type Column } from '../output.js';

const columns: Column<ApiKeyInfo>[] = [
  { header: 'id', value: (k) => k.id, max: 44 },
  { header: 'prefix', value: (k) => k.prefix, max: 12 },
  { header: 'org', value: (k) => k.organization_name, max: 24 },
  { header: 'user', value: (k) => k.user_name, max: 24 },
  { header: 'admin', value: (k) => (k.is_admin ? 'yes' : '') },
  { header: 'created', value: (k) => k.created_at.slice(0, 19), max: 19 },
  { header: 'last used', value: (k) => k.last_used_at?.slice(0, 19), max: 19 },
  { header: 'revoked', value: (k) => k.revoked_at?.slice(0, 19), max: 19 },
];

/**
 * Works on the server's database directly (the data dir's SQLite file, or LETTA_PG_URI), not over HTTP: making the
 * first key needs no key, and whoever can read the database owns the server anyway.
 */
async function withTenancy(dataDir: string | undefined, work: (tenancy: TenancyService) => Promise<void>) {
  // Loaded here: the client-side commands start without the server's module graph.
  const [{ loadConfig }, { databaseConfigFor, openDatabase }, { TenancyStore }, { TenancyService }] = await Promise.all(
    [
      import('../../config.js'),
      import('../../store/database.js'),
      import('../../store/tenancy.store.js'),
      import('../../services/tenancy.service.js'),
    ],
  );
  const dialect = await openDatabase(databaseConfigFor(loadConfig({ dataDir })));
  // SQLite's checkpoint worker is unref'd, so while close() waits for it nothing else keeps the process alive:
  // without this the command could end before it reports its outcome.
  const alive = setInterval(() => {}, 60_000);
  try {
    const tenancy = new TenancyService(new TenancyStore(dialect.db), dialect.isUniqueViolation);
    await tenancy.ensureDefaults();
    await work(tenancy);
  } finally {
    await dialect.close();
    clearInterval(alive);
  }
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description("Create, list and revoke API keys (on this machine's Cairn database)")
    .option('--data-dir <dir>', 'data directory of the embedded database (env CAIRN_HOME, default ~/.cairn)');
  const dataDir = () => keys.opts<{ dataDir?: string }>().dataDir;

  keys
    .command('create')
    .description('Create a key for a user (and the user and organisation when missing); prints the key once')
    .requiredOption('--user <name>', "the user's name")
    .option('--org <name>', "the organisation's name (default: the default organisation)")
    .option('--admin', 'the key may manage organisations and users and act as any user')
    .option('--json', 'print JSON')
    .action(
      action(async (o: { user: string; org?: string; admin?: boolean; json?: boolean }) =>
        withTenancy(dataDir(), async (tenancy) => {
          const { key, info } = await tenancy.createKey({ user: o.user, organization: o.org, admin: o.admin === true });
          print(
            o.json === true,
            { key, ...info },
            () =>
              `${key}\n\nThe key above is shown only now; store it safely. id ${info.id}, org ${info.organization_name}, user ${info.user_name}${info.is_admin ? ', admin' : ''}\n`,
          );
        }),
      ),
    );

  keys
    .command('list')
    .description('List keys (never the keys themselves, which are not stored)')
    .option('--json', 'print JSON')
    .action(
      action(async (o: { json?: boolean }) =>
        withTenancy(dataDir(), async (tenancy) => {
          const all = await tenancy.listKeys();
          print(o.json === true, all, () => table(all, columns));
        }),
      ),
    );

  keys
    .command('revoke <id-or-prefix>')
    .description('Revoke a key: requests presenting it are refused from now on')
    .action(
      action(async (idOrPrefix: string) =>
        withTenancy(dataDir(), async (tenancy) => {
          if (!(await tenancy.revokeKey(idOrPrefix))) throw new Error(`no active key has id or prefix '${idOrPrefix}'`);
          process.stdout.write(`revoked ${idOrPrefix}\n`);
        }),
      ),
    );
}
