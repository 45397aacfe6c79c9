import { z } from 'zod';
import { pageQuery } from '../../../schemas/common.js';
import { lettaMessageSchema } from '../../../schemas/message.js';
import { stepSchema } from '../../../schemas/run.js';
import { feedbackSchema, listStepsQuery, stepIdParams } from '../../../schemas/step.js';
import type { RouteModule } from '../types.js';

const tags = ['steps'];

export const stepRoutes: RouteModule = async (app) => {
  const { steps } = app.services;

  app.get(
    '/steps/',
    { schema: { tags, querystring: listStepsQuery, response: { 200: z.array(stepSchema) } } },
    async (request) => steps.list(request.query),
  );

  app.get(
    '/steps/:step_id',
    { schema: { tags, params: stepIdParams, response: { 200: stepSchema } } },
    async (request) => steps.get(request.params.step_id),
  );

  app.get(
    '/steps/:step_id/messages',
    {
      schema: {
        tags,
        params: stepIdParams,
        querystring: pageQuery(100),
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => steps.messages(request.params.step_id, request.query),
  );

  app.get('/steps/:step_id/metrics', { schema: { tags, params: stepIdParams } }, async (request) =>
    steps.metrics(request.params.step_id),
  );

  app.get('/steps/:step_id/trace', { schema: { tags, params: stepIdParams } }, async (request) =>
    steps.trace(request.params.step_id),
  );

  app.patch(
    '/steps/:step_id/feedback',
    { schema: { tags, params: stepIdParams, body: feedbackSchema, response: { 200: stepSchema } } },
    async (request) => steps.feedback(request.params.step_id, request.body.feedback, request.body.tags),
  );
};
