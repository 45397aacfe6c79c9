import { z } from 'zod';
import { toolSchema } from '../../../schemas/tool.js';
import type { RouteModule } from '../types.js';

const tags = ['tools'];

/**
 * Only `POST /v1/tools/add-base-tools` for now. Letta Code calls it whenever it has an API key (once per install,
 * remembered in `~/.letta/.bootstrapped` only after a success) and prints "Failed to call /v1/tools/add-base-tools"
 * on every run while it fails. Letta upserts its base tools and returns them; Cairn already upserts its built-ins at
 * startup (`ToolService.ensureBuiltinTools`), so this lists them. The rest of `/v1/tools` comes with custom tools.
 */
export const toolRoutes: RouteModule = async (app) => {
  app.post('/tools/add-base-tools', { schema: { tags, response: { 200: z.array(toolSchema) } } }, async () =>
    app.services.tools.baseTools(),
  );
};
