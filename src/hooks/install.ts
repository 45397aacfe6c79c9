import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type Scope = 'user' | 'project';

export interface InstallOptions {
  scope: Scope;
  /** Project root for `--scope project` (default: the current directory). */
  projectDir: string;
  /** Absolute path of the bundled hooks (dist/hooks.js). */
  hooksScript: string;
  /** Passed to every hook when not the default, so hooks reach the same server as the CLI. */
  baseURL: string | undefined;
  /** Name of the environment variable holding the token, referenced (never copied) in the MCP registration. */
  tokenEnvVar: string | undefined;
  mcpURL: string;
  mcp: boolean;
  postToolUse: boolean;
  home?: string;
}

export interface InstallReport {
  settingsFile: string;
  mcpFile: string | undefined;
  changed: string[];
}

interface HookCommand {
  type: 'command';
  command: string;
  timeout: number;
  async?: boolean;
}

interface MatcherGroup {
  matcher?: string;
  hooks: HookCommand[];
}

/** Timeouts are in SECONDS (Claude Code's unit); SessionEnd is declared so that its 1.5 s shared default is explicit. */
const EVENTS: { event: string; sub: string; matcher?: string; timeout: number; async?: boolean; optional?: boolean }[] =
  [
    { event: 'SessionStart', sub: 'session-start', matcher: 'startup|resume|clear|compact', timeout: 5 },
    { event: 'UserPromptSubmit', sub: 'user-prompt-submit', timeout: 5 },
    { event: 'Stop', sub: 'stop', timeout: 30, async: true },
    { event: 'PreCompact', sub: 'pre-compact', timeout: 10 },
    { event: 'SessionEnd', sub: 'session-end', timeout: 5 },
    {
      event: 'PostToolUse',
      sub: 'post-tool-use',
      matcher: 'Edit|MultiEdit|Write|NotebookEdit',
      timeout: 10,
      async: true,
      optional: true,
    },
  ];

const OURS =
  /(hooks\.js"?|cairn(\.js)?"? hooks) (session-start|user-prompt-submit|stop|pre-compact|session-end|post-tool-use)\b/;

export function isCairnHookCommand(command: unknown): boolean {
  return typeof command === 'string' && OURS.test(command);
}

const quote = (s: string) => (/^[\w./:@=-]+$/.test(s) ? s : JSON.stringify(s));

export function hookCommand(
  options: Pick<InstallOptions, 'hooksScript' | 'baseURL'>,
  sub: string,
  extra: string[] = [],
): string {
  const args = [quote(process.execPath), quote(options.hooksScript), sub, ...extra];
  if (options.baseURL) args.push('--base-url', quote(options.baseURL));
  return args.join(' ');
}

/** A Claude Code settings file: JSON whose keys other tools own too, so it is handled as loosely as it is. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Settings = Record<string, any>;

function readJson(path: string): Settings {
  if (!existsSync(path)) return {};
  const text = readFileSync(path, 'utf8');
  if (!text.trim()) return {};
  const parsed = JSON.parse(text) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`${path} does not hold a JSON object; not touching it`);
  return parsed as Settings;
}

function writeIfChanged(path: string, before: Settings, after: Settings): boolean {
  if (JSON.stringify(before) === JSON.stringify(after) && existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(after, null, 2)}\n`);
  return true;
}

/** Merges Cairn's hooks into a settings object: other hooks and keys stay; Cairn's previous entries are replaced. */
export function mergeHooks(
  settings: Settings,
  options: Pick<InstallOptions, 'hooksScript' | 'baseURL' | 'postToolUse'>,
): Settings {
  const next = structuredClone(settings);
  const hooks: Record<string, MatcherGroup[]> = next.hooks && typeof next.hooks === 'object' ? next.hooks : {};
  for (const spec of EVENTS) {
    const groups = (Array.isArray(hooks[spec.event]) ? hooks[spec.event]! : [])
      .map((g) => ({
        ...g,
        hooks: (Array.isArray(g.hooks) ? g.hooks : []).filter((h) => !isCairnHookCommand(h.command)),
      }))
      .filter((g) => g.hooks.length > 0);
    if (!spec.optional || options.postToolUse) {
      const hook: HookCommand = {
        type: 'command',
        command: hookCommand(options, spec.sub, spec.optional ? ['--enable'] : []),
        timeout: spec.timeout,
        ...(spec.async ? { async: true } : {}),
      };
      groups.push({ ...(spec.matcher ? { matcher: spec.matcher } : {}), hooks: [hook] });
    }
    if (groups.length > 0) hooks[spec.event] = groups;
    else delete hooks[spec.event];
  }
  next.hooks = hooks;
  return next;
}

export function install(options: InstallOptions): InstallReport {
  const home = options.home ?? homedir();
  const settingsFile =
    options.scope === 'user'
      ? join(home, '.claude', 'settings.json')
      : join(options.projectDir, '.claude', 'settings.json');
  const changed: string[] = [];
  const settings = readJson(settingsFile);
  if (writeIfChanged(settingsFile, settings, mergeHooks(settings, options))) changed.push(settingsFile);

  let mcpFile: string | undefined;
  if (options.mcp) {
    // Project scope: .mcp.json in the repository root; user scope: the top-level mcpServers of ~/.claude.json.
    mcpFile = options.scope === 'user' ? join(home, '.claude.json') : join(options.projectDir, '.mcp.json');
    const config = readJson(mcpFile);
    const next = structuredClone(config);
    next.mcpServers = next.mcpServers && typeof next.mcpServers === 'object' ? next.mcpServers : {};
    next.mcpServers.cairn = {
      type: 'http',
      url: options.mcpURL,
      ...(options.tokenEnvVar ? { headers: { Authorization: `Bearer \${${options.tokenEnvVar}}` } } : {}),
    };
    if (writeIfChanged(mcpFile, config, next)) changed.push(mcpFile);
  }
  return { settingsFile, mcpFile, changed };
}
