import type { ToolType } from '../../schemas/tool.js';

/** An OpenAI-format function schema, as Letta stores it in `Tool.json_schema`. */
export interface FunctionSchema {
  name: string;
  description: string;
  parameters: { type: 'object'; properties: Record<string, unknown>; required: string[] };
}

export interface BuiltinToolDefinition {
  toolType: ToolType;
  schema: FunctionSchema;
  /** Letta's base rules: a terminal tool ends the loop, every other base tool continues it. */
  terminal?: boolean;
}

const str = (description: string) => ({ type: 'string', description });
const label = str('Section of the memory to be edited, identified by its label.');

function define(
  toolType: ToolType,
  name: string,
  description: string,
  properties: Record<string, unknown>,
  required: string[],
  terminal = false,
): BuiltinToolDefinition {
  return { toolType, schema: { name, description, parameters: { type: 'object', properties, required } }, terminal };
}

/** The built-in tools, with Letta's names and arguments (`letta/functions/function_sets/base.py`). */
export const BUILTIN_TOOLS: readonly BuiltinToolDefinition[] = [
  define(
    'letta_core',
    'send_message',
    'Sends a message to the human user.',
    { message: str('Message contents. All unicode (including emojis) are supported.') },
    ['message'],
    true,
  ),
  define(
    'letta_core',
    'conversation_search',
    'Search prior conversation history using hybrid search (text + semantic similarity).',
    {
      query: str(
        'String to search for using both text matching and semantic similarity. If not provided, returns messages based on other filters (time range, roles).',
      ),
      roles: {
        type: 'array',
        items: { type: 'string', enum: ['assistant', 'user', 'tool'] },
        description: 'Optional list of message roles to filter by.',
      },
      limit: {
        type: 'integer',
        description: 'Maximum number of results to return. Uses system default if not specified.',
      },
      start_date: str(
        'Filter results to messages created on or after this date (INCLUSIVE). ISO 8601 format: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM".',
      ),
      end_date: str(
        'Filter results to messages created on or before this date (INCLUSIVE). A date-only value includes that entire day. ISO 8601 format: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM".',
      ),
    },
    [],
  ),
  define(
    'letta_core',
    'archival_memory_insert',
    'Add information to long-term archival memory for later retrieval.',
    {
      content: str('The information to store. Should be clear and self-contained.'),
      tags: {
        type: 'array',
        items: { type: 'string' },
        description: 'Optional list of category tags (e.g., ["meetings", "project-updates"])',
      },
    },
    ['content'],
  ),
  define(
    'letta_core',
    'archival_memory_search',
    'Search archival memory using semantic similarity to find relevant information.',
    {
      query: str('What you\'re looking for, described naturally (e.g., "meetings about API redesign")'),
      tags: {
        type: 'array',
        items: { type: 'string' },
        description: 'Filter to memories with these tags. Use tag_match_mode to control matching.',
      },
      tag_match_mode: {
        type: 'string',
        enum: ['any', 'all'],
        description: '"any" = match memories with ANY of the tags, "all" = match only memories with ALL tags',
      },
      top_k: { type: 'integer', description: 'Maximum number of results to return (default: 10)' },
      start_datetime: str(
        'Only return memories created after this time (ISO 8601: "2024-01-15" or "2024-01-15T14:30")',
      ),
      end_datetime: str('Only return memories created before this time (ISO 8601 format)'),
    },
    ['query'],
  ),
  define(
    'letta_memory_core',
    'core_memory_append',
    'Append to the contents of core memory.',
    {
      label: str('Section of the memory to be edited.'),
      content: str('Content to write to the memory. All unicode (including emojis) are supported.'),
    },
    ['label', 'content'],
  ),
  define(
    'letta_memory_core',
    'core_memory_replace',
    'Replace the contents of core memory. To delete memories, use an empty string for new_content.',
    {
      label: str('Section of the memory to be edited.'),
      old_content: str('String to replace. Must be an exact match.'),
      new_content: str('Content to write to the memory. All unicode (including emojis) are supported.'),
    },
    ['label', 'old_content', 'new_content'],
  ),
  define(
    'letta_sleeptime_core',
    'memory_replace',
    'The memory_replace command allows you to replace a specific string in a memory block with a new string. This is used for making precise edits.\nDo NOT attempt to replace long strings, e.g. do not attempt to replace the entire contents of a memory block with a new string.',
    {
      label,
      old_string: str('The text to replace (must match exactly, including whitespace and indentation).'),
      new_string: str('The new text to insert in place of the old text. Do not include line number prefixes.'),
    },
    ['label', 'old_string', 'new_string'],
  ),
  define(
    'letta_sleeptime_core',
    'memory_insert',
    'The memory_insert command allows you to insert text at a specific location in a memory block.',
    {
      label,
      new_string: str('The text to insert. Do not include line number prefixes.'),
      insert_line: {
        type: 'integer',
        description:
          'The line number after which to insert the text (0 for beginning of file). Defaults to -1 (end of the file).',
      },
    },
    ['label', 'new_string'],
  ),
  define(
    'letta_sleeptime_core',
    'memory_rethink',
    'The memory_rethink command allows you to completely rewrite the contents of a memory block. Use this tool to make large sweeping changes (e.g. when you want to condense or reorganize the memory blocks), do NOT use this tool to make small precise edits (e.g. add or remove a line, replace a specific string, etc).',
    {
      label: str('The memory block to be rewritten, identified by its label.'),
      new_memory: str(
        'The new memory contents with information integrated from existing memory blocks and the conversation context.',
      ),
    },
    ['label', 'new_memory'],
  ),
  define(
    'letta_sleeptime_core',
    'memory_finish_edits',
    'Call the memory_finish_edits command when you are finished making edits (integrating all new information) into the memory blocks. This function is called when the agent is done rethinking the memory.',
    {},
    [],
    true,
  ),
  define(
    'letta_builtin',
    'web_search',
    'Search the web for information.',
    {
      query: str('The search query.'),
      num_results: { type: 'integer', description: 'Number of results to return (default: 10).' },
    },
    ['query'],
  ),
  define(
    'letta_builtin',
    'fetch_webpage',
    'Fetch a webpage and convert it to markdown/text format.',
    { url: str('The URL of the webpage to fetch.') },
    ['url'],
  ),
  // Letta's file tools (`letta/functions/function_sets/files.py`), attached with an agent's first folder.
  define(
    'letta_files_core',
    'open_files',
    'Open one or more files and load their contents into files section in core memory. Maximum of 5 files can be opened simultaneously.',
    {
      file_requests: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            file_name: str('Name of the file to open'),
            offset: {
              type: 'integer',
              description:
                'Optional offset for starting line number (0-indexed). If not specified, starts from beginning of file.',
            },
            length: {
              type: 'integer',
              description:
                'Optional number of lines to view from offset (inclusive). If not specified, views to end of file.',
            },
          },
          required: ['file_name'],
        },
        description: 'List of file open requests, each specifying file name and optional view range.',
      },
      close_all_others: {
        type: 'boolean',
        description: 'If True, closes all other currently open files first. Defaults to False.',
      },
    },
    ['file_requests'],
  ),
  define(
    'letta_files_core',
    'grep_files',
    'Searches file contents for pattern matches with surrounding context.',
    {
      pattern: str('Keyword or regex pattern to search within file contents.'),
      include: str('Optional keyword or regex pattern to filter filenames to include in the search.'),
      context_lines: {
        type: 'integer',
        description:
          'Number of lines of context to show before and after each match. Equivalent to `-C` in grep_files. Defaults to 1.',
      },
      offset: {
        type: 'integer',
        description:
          'Number of matches to skip before showing results. Used for pagination. For example, offset=20 shows matches starting from the 21st match. Use offset=0 (or omit) for first page, offset=20 for second page, offset=40 for third page, etc. The tool will tell you the exact offset to use for the next page.',
      },
    },
    ['pattern'],
  ),
  define(
    'letta_files_core',
    'semantic_search_files',
    'Searches file contents using semantic meaning rather than exact matches.',
    {
      query: str('The search query text to find semantically similar content.'),
      limit: { type: 'integer', description: 'Maximum number of results to return (default: 5)' },
    },
    ['query'],
  ),
];

export const BUILTIN_TOOLS_BY_NAME = new Map(BUILTIN_TOOLS.map((tool) => [tool.schema.name, tool]));

/** Tools Letta attaches by default per agent type (`include_base_tools`), reference §8.2. */
export function defaultToolNames(agentType: string, enableSleeptime: boolean): string[] {
  if (enableSleeptime) return ['send_message', 'conversation_search', 'archival_memory_search'];
  switch (agentType) {
    case 'letta_v1_agent':
      return ['conversation_search', 'memory_insert', 'memory_replace'];
    case 'memgpt_v2_agent':
      return ['send_message', 'conversation_search', 'memory_insert', 'memory_replace'];
    case 'memgpt_agent':
      return ['send_message', 'conversation_search', 'core_memory_append', 'core_memory_replace'];
    case 'sleeptime_agent':
      return ['memory_replace', 'memory_insert', 'memory_rethink', 'memory_finish_edits'];
    default:
      return [];
  }
}
