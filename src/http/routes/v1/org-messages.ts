import { z } from 'zod';
import { messageEditRetired } from '../../../domain/errors.js';
import { agentIdParams } from '../../../schemas/agent.js';
import { idOf, pageQuery, queryArray, queryString } from '../../../schemas/common.js';
import { MESSAGE_TYPES, lettaMessageSchema } from '../../../schemas/message.js';
import { orgMessageSearchSchema } from '../../../schemas/capture.js';
import type { RouteModule } from '../types.js';

const tags = ['messages'];

/** Message routes that span every agent, and Letta's retired message edit. */
export const orgMessageRoutes: RouteModule = async (app) => {
  const { messages, recall } = app.services;

  app.get(
    '/messages/',
    {
      schema: {
        tags,
        querystring: pageQuery(100).extend({
          conversation_id: queryString(),
          include_return_message_types: queryArray(z.enum(MESSAGE_TYPES)),
        }),
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => messages.listAll(request.query),
  );

  app.patch(
    '/agents/:agent_id/messages/:message_id',
    { schema: { tags, params: agentIdParams.extend({ message_id: idOf('message') }) } },
    async () => {
      throw messageEditRetired();
    },
  );

  app.post('/agents/messages/search', { schema: { tags: ['agents'], body: orgMessageSearchSchema } }, async (request) =>
    recall.searchStoredMessages(request.body),
  );
};
