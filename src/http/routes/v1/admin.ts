import { z } from 'zod';
import {
  adminPageQuery,
  organizationCreateSchema,
  organizationSchema,
  organizationUpdateSchema,
  orgIdQuery,
  userCreateSchema,
  userIdQuery,
  userSchema,
  userUpdateSchema,
} from '../../../schemas/tenancy.js';
import { requireAdmin } from '../../plugins/auth.js';
import type { RouteModule } from '../types.js';

const tags = ['admin'];

/**
 * Letta's `/v1/admin/orgs/` and `/v1/admin/users/`, for an admin credential only (403 for any other key: the
 * control plane is not any organisation's data, so refusing it confirms nothing). Deleting an organisation
 * deletes its users, its keys and its database.
 */
/** Letta's admin lists page with `cursor`; `after` is the name every other Cairn list takes. */
const page = (query: z.infer<typeof adminPageQuery>) => ({
  after: query.after ?? query.cursor,
  limit: query.limit,
});

export const adminRoutes: RouteModule = async (app) => {
  const { tenancy, tenants } = app;
  app.addHook('onRequest', async (request) => requireAdmin(request));

  app.get(
    '/admin/orgs/',
    { schema: { tags, querystring: adminPageQuery, response: { 200: z.array(organizationSchema) } } },
    async (request) => tenancy.listOrganizations(page(request.query)),
  );
  app.post(
    '/admin/orgs/',
    { schema: { tags, body: organizationCreateSchema, response: { 200: organizationSchema } } },
    async (request) => tenancy.createOrganization(request.body),
  );
  app.patch(
    '/admin/orgs/',
    {
      schema: { tags, querystring: orgIdQuery, body: organizationUpdateSchema, response: { 200: organizationSchema } },
    },
    async (request) => tenancy.updateOrganization(request.query.org_id, request.body),
  );
  app.delete(
    '/admin/orgs/',
    { schema: { tags, querystring: orgIdQuery, response: { 200: organizationSchema } } },
    async (request) => {
      const deleted = await tenancy.deleteOrganization(request.query.org_id);
      await tenants.destroy(deleted.id);
      return deleted;
    },
  );

  app.get(
    '/admin/users/',
    { schema: { tags, querystring: adminPageQuery, response: { 200: z.array(userSchema) } } },
    async (request) => tenancy.listUsers(page(request.query)),
  );
  app.post(
    '/admin/users/',
    { schema: { tags, body: userCreateSchema, response: { 200: userSchema } } },
    async (request) => tenancy.createUser(request.body),
  );
  // Letta serves the update as PUT; PATCH is what its generated clients of later releases call.
  for (const method of ['put', 'patch'] as const)
    app[method](
      '/admin/users/',
      { schema: { tags, body: userUpdateSchema, response: { 200: userSchema } } },
      async (request) => tenancy.updateUser(request.body),
    );
  app.delete(
    '/admin/users/',
    { schema: { tags, querystring: userIdQuery, response: { 200: userSchema } } },
    async (request) => tenancy.deleteUser(request.query.user_id),
  );
};
