import http from 'node:http';
import https from 'node:https';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NO_BODY = new Set([101, 204, 205, 304]);

/** Servers may compress even unasked; `pipeline` passes a reset of the response on to the decoder. */
function decoded(res: http.IncomingMessage): Readable {
  const encoding = res.headers['content-encoding'];
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  return decoder ? pipeline(res, decoder, () => {}) : res;
}

function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  const entries =
    headers instanceof Headers || Array.isArray(headers)
      ? [...(headers as Iterable<[string, string]>)]
      : Object.entries(headers as Record<string, string | undefined>);
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * A `fetch` on node:http(s) and the keep-alive global agents, answering with a standard streaming `Response`. Two
 * callers, one reason each: the AI SDK providers (undici's fetch costs ~0.6 ms more CPU per model call: request and
 * response objects, a web stream for the request body, about a tenth of a short agent step) and the Claude Code
 * hooks (a process's first undici request compiles its WASM HTTP parser, ~40–50 ms on every prompt; node:http's
 * parser is native). Anything this does not cover (a `Request` object, a non-text body, another scheme, a redirect)
 * goes to the global `fetch`; failures look like the global one's (`TypeError('fetch failed')` with the cause, the
 * signal's reason on abort), which the AI SDK's retry logic reads.
 */
export const nodeHttpFetch: typeof fetch = (input, init = {}) => {
  const body = init.body ?? undefined;
  const target = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  if (target === undefined || (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)))
    return fetch(input, init);
  const url = new URL(target);
  const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
  if (!transport) return fetch(input, init);
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const headers = plainHeaders(init.headers);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    const req = transport.request(url, { method: init.method ?? 'GET', headers }, (res) => {
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status) && res.headers.location) {
        res.resume();
        signal?.removeEventListener('abort', onAbort);
        resolve(fetch(input, init));
        return;
      }
      const responseHeaders = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      const stream =
        NO_BODY.has(status) || init.method === 'HEAD'
          ? null
          : (Readable.toWeb(decoded(res)) as ReadableStream<Uint8Array>);
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
    });
    const onAbort = () => req.destroy(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
    req.end(body);
  });
};
