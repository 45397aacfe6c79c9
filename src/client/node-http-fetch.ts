import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Statuses whose responses cannot carry a body (the Response constructor rejects one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for short-lived processes (the Claude Code hooks), built on `node:http`. Node's global fetch compiles
 * undici's WASM HTTP parser on a process's first request (~40–50 ms), which the prompt-path hooks would pay on every
 * prompt; `node:http` uses the native parser. Responses are buffered (the hooks make small JSON calls) and returned
 * as real `Response` objects, so the official SDK reads them as usual. Bodies other than strings and bytes
 * (multipart uploads) go to the global fetch.
 */
export const nodeHttpFetch = ((input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  const body = init.body;
  if (input instanceof Request || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array))) return fetch(input, init);
  const url = new URL(input);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { method: init.method ?? 'GET', headers, signal: init.signal ?? undefined }, (response) => {
      collect(response).then((buffer) => resolve(toResponse(response, buffer)), reject);
    });
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}) as typeof fetch;

function collect(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
  });
}

function toResponse(response: IncomingMessage, buffer: Buffer): Response {
  const status = response.statusCode ?? 502;
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : buffer, { status, statusText: response.statusMessage ?? '', headers });
}
