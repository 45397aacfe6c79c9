import { newId } from '../lib/ids.js';
import { nowIso } from '../lib/time.js';
import type { Tool } from '../schemas/tool.js';
import type { Stores } from '../store/index.js';
import { toTool } from '../store/tool.store.js';
import { BUILTIN_TOOLS } from '../tools/builtin/definitions.js';

export class ToolService {
  constructor(private readonly stores: Stores) {}

  /** The built-in tools as stored (`POST /tools/add-base-tools` lists them; they are upserted at startup). */
  async baseTools(): Promise<Tool[]> {
    return (await this.stores.tools.findManyByNames(BUILTIN_TOOLS.map((tool) => tool.schema.name))).map(toTool);
  }

  /**
   * Upserts the built-in tools by name at startup. Safe under concurrent starts of several processes: a lost
   * insert race is a unique violation on `name`, after which the winner's row is simply reused.
   */
  async ensureBuiltinTools(isUniqueViolation: (error: unknown) => boolean): Promise<void> {
    const present = new Map(
      (await this.stores.tools.findManyByNames(BUILTIN_TOOLS.map((t) => t.schema.name))).map((row) => [row.name, row]),
    );
    for (const tool of BUILTIN_TOOLS) {
      const { name, description } = tool.schema;
      const existing = present.get(name);
      const fields = {
        description,
        tool_type: tool.toolType,
        source_type: 'python',
        source_code: null,
        json_schema: JSON.stringify(tool.schema),
        args_json_schema: null,
        return_char_limit: 50_000,
        pip_requirements: null,
        npm_requirements: null,
        default_requires_approval: 0,
        enable_parallel_execution: 0,
        tags: JSON.stringify([tool.toolType]),
        metadata: '{}',
        project_id: null,
      };
      if (existing) {
        if (existing.json_schema !== fields.json_schema || existing.tool_type !== fields.tool_type) {
          await this.stores.tools.update(existing.id, { ...fields, updated_at: nowIso() });
        }
        continue;
      }
      const now = nowIso();
      try {
        await this.stores.tools.insert({ id: newId('tool'), name, ...fields, created_at: now, updated_at: now });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
  }
}
