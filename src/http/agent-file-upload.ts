import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { JsonDepthGauge } from '../lib/json-depth.js';
import { badRequest, CairnError, invalidField } from '../lib/errors.js';
import type { AgentFileLimits } from '../services/agent-file.service.js';

export interface AgentFileUpload {
  /** The parsed file. */
  document: unknown;
  /** The form fields beside it, as sent. */
  fields: Map<string, string>;
}

/** The connection is closed with the answer: the rest of the upload is never read, so the socket cannot be reused. */
const tooLarge = (maxBytes: number) =>
  new CairnError(413, `Agent file is larger than the ${maxBytes} bytes this server accepts.`, { connection: 'close' });

/**
 * Reads `POST /agents/import`'s multipart body: the `file` part streamed against the size cap and the nesting gauge
 * (an oversized or hostile upload is refused at the byte that crosses the line, never buffered whole), and the
 * other fields as text, in whatever order the client sends them.
 */
export async function readAgentFileUpload(request: FastifyRequest, limits: AgentFileLimits): Promise<AgentFileUpload> {
  if (!request.isMultipart())
    throw invalidField(['body', 'file'], 'Field required: send the agent file as multipart/form-data');
  const fields = new Map<string, string>();
  let text: string | undefined;
  const parts = request.parts({
    limits: { fileSize: limits.maxBytes, files: 1, fields: 32, fieldSize: 1024 * 1024, parts: 40 },
  });
  try {
    for await (const part of parts) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw invalidField(['body', part.fieldname], 'Unexpected file field');
        text = await readCapped(part.file, limits);
      } else {
        fields.set(part.fieldname, String(part.value));
      }
    }
  } catch (error) {
    // The multipart parser's own errors (a truncated body, a malformed part header) are the client's body at fault.
    if (error instanceof CairnError) throw error;
    throw badRequest(`Malformed multipart body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (text === undefined) throw invalidField(['body', 'file'], 'Field required');
  try {
    return { document: JSON.parse(text) as unknown, fields };
  } catch {
    throw badRequest('Corrupted agent file format.');
  }
}

/** Rejects at the chunk that crosses a limit and destroys the part, so the rest of the upload is never read. */
function readCapped(stream: Readable, limits: AgentFileLimits): Promise<string> {
  const gauge = new JsonDepthGauge(limits.maxDepth);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      stream.destroy();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      if (gauge.feed(chunk)) chunks.push(chunk);
      else
        fail(new CairnError(400, `Agent file nests deeper than ${limits.maxDepth} levels.`, { connection: 'close' }));
    });
    // Busboy's signal that the part reached `limits.fileSize`: it would otherwise drop the rest silently.
    stream.on('limit', () => fail(tooLarge(limits.maxBytes)));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
