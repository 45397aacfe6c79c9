import { writeSse } from '../../sse.js';
import { idOf, pageQuery } from '../../../schemas/common.js';
import { groupIdParams } from '../../../schemas/group.js';
import { sendMessageSchema } from '../../../schemas/message.js';
import type { RouteModule } from '../types.js';

const tags = ['groups'];

/**
 * Group messaging: Letta's `send_group_message` and `send_group_message_streaming` (deprecated, and dropped from
 * the current OpenAPI document, but served by the Letta releases multi-agent users run), the group's message list
 * and its reset.
 */
export const groupMessageRoutes: RouteModule = async (app) => {
  const { groupChats } = app.services;

  app.post(
    '/groups/:group_id/messages',
    { schema: { tags, params: groupIdParams, body: sendMessageSchema(false) } },
    async (request, reply) => {
      if (request.body.streaming !== true) return groupChats.send(request.params.group_id, request.body);
      const chat = await groupChats.stream(request.params.group_id, request.body);
      await writeSse(reply, chat.runId, request.body.include_pings !== false, chat.stream);
      return reply;
    },
  );
  app.post(
    '/groups/:group_id/messages/stream',
    { schema: { tags, params: groupIdParams, body: sendMessageSchema(true) } },
    async (request, reply) => {
      const chat = await groupChats.stream(request.params.group_id, { ...request.body, streaming: true });
      await writeSse(reply, chat.runId, request.body.include_pings !== false, chat.stream);
      return reply;
    },
  );
  app.get(
    '/groups/:group_id/messages',
    { schema: { tags, params: groupIdParams, querystring: pageQuery(10) } },
    async (request) => groupChats.list(request.params.group_id, request.query),
  );
  app.patch(
    '/groups/:group_id/messages/:message_id',
    { schema: { tags, params: groupIdParams.extend({ message_id: idOf('message') }) } },
    async (request) => groupChats.edit(request.params.group_id),
  );
  app.patch('/groups/:group_id/reset-messages', { schema: { tags, params: groupIdParams } }, async (request) => {
    await groupChats.reset(request.params.group_id);
    return null;
  });
};
