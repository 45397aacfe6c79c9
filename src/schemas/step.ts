import { z } from 'zod';
import { idOf, opt, pageQuery, queryArray, queryOptionalBool, queryString } from './common.js';

export const stepIdParams = z.object({ step_id: idOf('step') });

const isoDate = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'expected an ISO datetime')
    .optional(),
);

export const listStepsQuery = pageQuery(50).extend({
  order_by: queryString(),
  start_date: isoDate,
  end_date: isoDate,
  model: queryString(),
  agent_id: queryString(),
  trace_ids: queryArray(z.string()),
  feedback: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['positive', 'negative']).optional()),
  has_feedback: queryOptionalBool(),
  tags: queryArray(z.string()),
  project_id: queryString(),
});
export type ListStepsQuery = z.infer<typeof listStepsQuery>;

export const feedbackSchema = z.object({
  feedback: opt(z.enum(['positive', 'negative'])),
  tags: opt(z.array(z.string().max(200)).max(100)),
});
