#!/usr/bin/env node
import { Command } from 'commander';
import { CAIRN_VERSION } from '../version.js';
import { registerAgentFiles } from './commands/agent-files.js';
import { registerAgents } from './commands/agents.js';
import { registerBlocks } from './commands/blocks.js';
import { registerHooks } from './commands/hooks.js';
import { registerPassages } from './commands/passages.js';
import { registerMcp } from './commands/mcp.js';
import { registerKeys } from './commands/keys.js';

const program = new Command();
program
  .name('cairn')
  .description('Stateful agents with persistent memory; a Letta V1 compatible server.')
  .version(CAIRN_VERSION);

program
  .command('serve')
  .description('Run the Cairn server (embedded SQLite by default; PostgreSQL with LETTA_PG_URI)')
  .option('--port <port>', 'port to listen on (env PORT, default 8283)')
  .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
  .option('--data-dir <dir>', 'data directory for the embedded database (env CAIRN_HOME, default ~/.cairn)')
  .option('--allow-insecure-remote', 'allow binding beyond loopback without LETTA_SERVER_PASSWORD')
  .action(async (options: { port?: string; host?: string; dataDir?: string; allowInsecureRemote?: boolean }) => {
    // Loaded on demand: the client-side commands (mcp, hooks, agents, …) start without the server's module graph.
    const [{ loadConfig }, { createLogger }, { serve }] = await Promise.all([
      import('../config.js'),
      import('../logger.js'),
      import('../server.js'),
    ]);
    const config = loadConfig(options);
    await serve(config, createLogger(config.logLevel));
  });

registerMcp(program);
registerHooks(program);
registerAgents(program);
registerAgentFiles(program);
registerBlocks(program);
registerPassages(program);
registerKeys(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`cairn: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
