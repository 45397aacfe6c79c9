import { z } from 'zod';
import { idOf, queryLimit, queryString } from './common.js';

/** Letta's `Organization` (`letta/schemas/organization.py`). */
export const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.string(),
    privileged_tools: z.boolean(),
  })
  .meta({ id: 'Organization' });
export type Organization = z.infer<typeof organizationSchema>;

/** Letta's `User` (`letta/schemas/user.py`). */
export const userSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    name: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    is_deleted: z.boolean(),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof userSchema>;

const name = z.string().trim().min(1).max(200);

export const organizationCreateSchema = z
  .object({ name: name.nullish(), privileged_tools: z.boolean().nullish() })
  .meta({ id: 'OrganizationCreate' });
export type OrganizationCreate = z.infer<typeof organizationCreateSchema>;

export const organizationUpdateSchema = z
  .object({ name: name.nullish(), privileged_tools: z.boolean().nullish() })
  .meta({ id: 'OrganizationUpdate' });
export type OrganizationUpdate = z.infer<typeof organizationUpdateSchema>;

export const userCreateSchema = z.object({ name, organization_id: idOf('org').nullish() }).meta({ id: 'UserCreate' });
export type UserCreate = z.infer<typeof userCreateSchema>;

export const userUpdateSchema = z
  .object({ id: idOf('user'), name: name.nullish(), organization_id: idOf('org').nullish() })
  .meta({ id: 'UserUpdate' });
export type UserUpdate = z.infer<typeof userUpdateSchema>;

/** Letta pages these lists with `cursor` (users) or `after` (organisations); both are accepted on both. */
export const adminPageQuery = z.object({ cursor: queryString(), after: queryString(), limit: queryLimit(50) });

export const orgIdQuery = z.object({ org_id: idOf('org') });
export const userIdQuery = z.object({ user_id: idOf('user') });
