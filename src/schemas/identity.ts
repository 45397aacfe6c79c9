import { z } from 'zod';
import { idOf, opt, pageQuery, queryString } from './common.js';

export const identityTypeSchema = z.enum(['org', 'user', 'other']);

export const identityPropertySchema = z
  .object({
    key: z.string(),
    value: z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), z.unknown())]),
    type: z.enum(['string', 'number', 'boolean', 'json']),
  })
  .meta({ id: 'IdentityProperty' });

export const identitySchema = z
  .object({
    id: z.string(),
    identifier_key: z.string(),
    name: z.string(),
    identity_type: identityTypeSchema,
    project_id: z.string().nullable(),
    agent_ids: z.array(z.string()),
    block_ids: z.array(z.string()),
    properties: z.array(identityPropertySchema),
  })
  .meta({ id: 'Identity' });
export type Identity = z.infer<typeof identitySchema>;

export const identityCreateSchema = z
  .object({
    identifier_key: z.string().min(1),
    name: z.string().min(1),
    identity_type: identityTypeSchema,
    project_id: opt(z.string()),
    agent_ids: opt(z.array(idOf('agent'))),
    block_ids: opt(z.array(idOf('block'))),
    properties: opt(z.array(identityPropertySchema)),
  })
  .meta({ id: 'IdentityCreate' });
export type IdentityCreate = z.infer<typeof identityCreateSchema>;

export const identityUpdateSchema = z
  .object({
    identifier_key: opt(z.string().min(1)),
    name: opt(z.string().min(1)),
    identity_type: opt(identityTypeSchema),
    agent_ids: opt(z.array(idOf('agent'))),
    block_ids: opt(z.array(idOf('block'))),
    properties: opt(z.array(identityPropertySchema)),
  })
  .meta({ id: 'IdentityUpdate' });
export type IdentityUpdate = z.infer<typeof identityUpdateSchema>;

export const identityIdParams = z.object({ identity_id: idOf('identity') });

export const listIdentitiesQuery = pageQuery(50).extend({
  name: queryString(),
  project_id: queryString(),
  identifier_key: queryString(),
  identity_type: z.preprocess((v) => (v === '' ? undefined : v), identityTypeSchema.optional()),
});
export type ListIdentitiesQuery = z.infer<typeof listIdentitiesQuery>;
