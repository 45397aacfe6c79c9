import { z } from 'zod';
import { idOf, opt, pageQuery, queryString } from './common.js';

export const groupIdParams = z.object({ group_id: idOf('group') });

const managerConfig = z.discriminatedUnion('manager_type', [
  z.object({ manager_type: z.literal('round_robin'), max_turns: opt(z.number().int().min(1)) }),
  z.object({ manager_type: z.literal('supervisor'), manager_agent_id: idOf('agent') }),
  z.object({
    manager_type: z.literal('dynamic'),
    manager_agent_id: idOf('agent'),
    termination_token: opt(z.string()),
    max_turns: opt(z.number().int().min(1)),
  }),
  z.object({
    manager_type: z.literal('sleeptime'),
    manager_agent_id: idOf('agent'),
    sleeptime_agent_frequency: opt(z.number().int().min(1)),
  }),
]);

export const groupCreateSchema = z.object({
  agent_ids: z.array(idOf('agent')).max(100),
  description: z.string().max(10_000),
  manager_config: managerConfig.optional(),
  project_id: opt(z.string()),
  shared_block_ids: z.array(idOf('block')).max(100).optional(),
  hidden: opt(z.boolean()),
});
export type GroupCreate = z.infer<typeof groupCreateSchema>;

export const groupUpdateSchema = z.object({
  agent_ids: opt(z.array(idOf('agent')).max(100)),
  description: opt(z.string().max(10_000)),
  manager_config: opt(
    z.object({
      manager_type: z.enum(['round_robin', 'supervisor', 'dynamic', 'sleeptime']),
      manager_agent_id: opt(idOf('agent')),
      max_turns: opt(z.number().int().min(1)),
      termination_token: opt(z.string()),
      sleeptime_agent_frequency: opt(z.number().int().min(1)),
    }),
  ),
  project_id: opt(z.string()),
  shared_block_ids: opt(z.array(idOf('block')).max(100)),
});
export type GroupUpdate = z.infer<typeof groupUpdateSchema>;

export const listGroupsQuery = pageQuery(50).extend({
  manager_type: queryString(),
  order_by: queryString(),
  project_id: queryString(),
});
export type ListGroupsQuery = z.infer<typeof listGroupsQuery>;

export const groupSchema = z
  .looseObject({ id: z.string(), manager_type: z.string(), agent_ids: z.array(z.string()), description: z.string() })
  .meta({ id: 'Group' });
