import multipart from '@fastify/multipart';
import { type z } from 'zod';
import { badRequest, invalidField } from '../../../lib/errors.js';
import { agentIdParams } from '../../../schemas/agent.js';
import {
  exportAgentQuery,
  exportAgentRequest,
  importedAgentsResponse,
  type ExportOptions,
} from '../../../schemas/agent-file.js';
import { AgentFileJsonParser } from '../../agent-file-json.js';
import { readAgentFileUpload } from '../../agent-file-upload.js';
import type { RouteModule } from '../types.js';

const tags = ['agents'];

/** Letta's form booleans arrive as text; an absent field takes Letta's default. */
function formBool(fields: Map<string, string>, name: string, fallback: boolean): boolean {
  const value = fields.get(name);
  if (value === undefined || value === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no', 'off'].includes(value.toLowerCase())) return false;
  throw invalidField(['body', name], 'Input should be a valid boolean', value);
}

const formText = (fields: Map<string, string>, ...names: string[]) =>
  names.map((n) => fields.get(n)).find((v) => v !== undefined && v !== '');

function secretsField(fields: Map<string, string>): Record<string, string> | undefined {
  const text = formText(fields, 'secrets', 'env_vars_json');
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('secrets must be a valid JSON string');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('secrets must be a valid JSON string');
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** `.af` export (indented JSON, as Letta's `IndentedORJSONResponse`) and multipart import (§14). */
export const agentFileRoutes: RouteModule = async (app) => {
  const { agentFiles } = app.services;
  // Registered in this plugin's scope only: no other route takes multipart bodies.
  await app.register(multipart);
  const parser = new AgentFileJsonParser();
  app.addHook('onClose', () => parser.close());

  const sendFile = async (agentId: string, options: ExportOptions) =>
    JSON.stringify(await agentFiles.export(agentId, options), null, 2);
  const thread = (conversationId: string | null | undefined) => (conversationId === 'default' ? null : conversationId);

  app.get(
    '/agents/:agent_id/export',
    { schema: { tags, params: agentIdParams, querystring: exportAgentQuery } },
    async (request, reply) => {
      if (request.query.use_legacy_format) throw badRequest('Legacy format is not supported');
      const body = await sendFile(request.params.agent_id, {
        conversationId: thread(request.query.conversation_id),
        scrubMessages: request.query.scrub_messages,
        includePassages: request.query.include_passages,
      });
      return reply.type('application/json').send(body);
    },
  );

  app.post(
    '/agents/:agent_id/export',
    { schema: { tags, params: agentIdParams, body: exportAgentRequest.nullish() } },
    async (request, reply) => {
      const options = request.body ?? {
        skills: [],
        scrub_messages: false,
        include_passages: false,
        conversation_id: null,
      };
      const body = await sendFile(request.params.agent_id, {
        conversationId: thread(options.conversation_id),
        scrubMessages: options.scrub_messages,
        includePassages: options.include_passages,
        skills: options.skills,
      });
      return reply.type('application/json').send(body);
    },
  );

  app.post(
    '/agents/import',
    { schema: { tags, consumes: ['multipart/form-data'], response: { 200: importedAgentsResponse } } },
    async (request) => {
      const { document, fields } = await readAgentFileUpload(request, agentFiles.limits, parser);
      const header = request.headers['x-override-embedding-model'];
      const agentIds = await agentFiles.import(document, {
        appendCopySuffix: formBool(fields, 'append_copy_suffix', true),
        overrideName: formText(fields, 'name', 'override_name'),
        overrideExistingTools: formBool(fields, 'override_existing_tools', true),
        stripMessages: formBool(fields, 'strip_messages', false),
        projectId: formText(fields, 'project_id'),
        envVars: secretsField(fields),
        model: formText(fields, 'model', 'override_model_handle'),
        embedding:
          formText(fields, 'embedding', 'override_embedding_handle') ??
          (typeof header === 'string' ? header : undefined),
      });
      return { agent_ids: agentIds } satisfies z.infer<typeof importedAgentsResponse>;
    },
  );
};
