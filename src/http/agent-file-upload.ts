import type { FastifyRequest } from 'fastify';
import { badRequest, CairnError, invalidField } from '../lib/errors.js';
import type { AgentFileJsonParser } from './agent-file-json.js';
import type { AgentFile } from '../schemas/agent-file.js';
import type { AgentFileLimits } from '../services/agent-file.service.js';

export interface AgentFileUpload {
  /** The parsed and validated file. */
  document: AgentFile;
  /** The form fields beside it, as sent. */
  fields: Map<string, string>;
}

/**
 * Reads `POST /agents/import`'s multipart body: the `file` part streamed into the JSON parser's worker against the
 * size cap and the nesting gauge (an oversized or hostile upload is refused at the chunk that crosses the line, never
 * buffered whole), and the other fields as text, in whatever order the client sends them.
 */
export async function readAgentFileUpload(
  request: FastifyRequest,
  limits: AgentFileLimits,
  parser: AgentFileJsonParser,
): Promise<AgentFileUpload> {
  if (!request.isMultipart())
    throw invalidField(['body', 'file'], 'Field required: send the agent file as multipart/form-data');
  const fields = new Map<string, string>();
  let document: { value: AgentFile } | undefined;
  const parts = request.parts({
    limits: { fileSize: limits.maxBytes, files: 1, fields: 32, fieldSize: 1024 * 1024, parts: 40 },
  });
  try {
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw invalidField(['body', part.fieldname], 'Unexpected file field');
        document = { value: await parser.parse(part.file, limits) };
      } else {
        fields.set(part.fieldname, String(part.value));
      }
    }
  } catch (error) {
    // The multipart parser's own errors (a truncated body, a malformed part header) are the client's body at fault.
    if (error instanceof CairnError) throw error;
    throw badRequest(`Malformed multipart body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document === undefined) throw invalidField(['body', 'file'], 'Field required');
  return { document: document.value, fields };
}
