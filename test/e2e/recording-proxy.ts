/**
 * A pass-through HTTP proxy that records every exchange between a client (Letta Code) and Cairn: method, path, request
 * body, status, content type and response body (SSE bodies whole, as sent). It changes nothing on the wire; it exists so
 * the end-to-end test can assert on the exact request sequence and, when a step fails, print what was asked and what
 * Cairn answered (the raw material of .cairn-notes/letta-code-gaps.md).
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  /** Path with query string, as the client sent it. */
  url: string;
  requestHeaders: IncomingHttpHeaders;
  requestBody: string;
  status: number;
  contentType: string | undefined;
  responseBody: string;
  ms: number;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  /**
   * One shot: the next SSE response reaching the client is ended cleanly after `frames` frames, as a dropped
   * connection looks to it, while the rest is still read from Cairn (and recorded) so the run finishes server-side.
   */
  cutNextStream(frames: number): void;
  /** One line per exchange: `POST /v1/agents/ → 200 application/json {"id":…` (bodies clipped to `clip` chars). */
  transcript(clip?: number): string;
  close(): Promise<void>;
}

const clipText = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  let cutAfter: number | undefined;
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const requestBody = Buffer.concat(body);
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          const chunks: Buffer[] = [];
          const sse = String(up.headers['content-type']).startsWith('text/event-stream');
          let budget = sse && cutAfter !== undefined ? cutAfter : undefined;
          if (budget !== undefined) cutAfter = undefined;
          let pending = '';
          up.on('data', (c: Buffer) => {
            chunks.push(c);
            if (budget === undefined) {
              res.write(c); // forwarded as it arrives: SSE pacing is preserved
              return;
            }
            // Cutting: forward whole frames until the budget is spent, then end the client's response.
            pending += c.toString('utf8');
            let cut: number;
            while (budget > 0 && (cut = pending.indexOf('\n\n')) >= 0) {
              res.write(pending.slice(0, cut + 2));
              pending = pending.slice(cut + 2);
              budget--;
            }
            if (budget === 0 && !res.writableEnded) res.end();
          });
          up.on('end', () => {
            if (!res.writableEnded) res.end();
            exchanges.push({
              method: req.method ?? '',
              url: req.url ?? '',
              requestHeaders: req.headers,
              requestBody: requestBody.toString('utf8'),
              status: up.statusCode ?? 0,
              contentType: up.headers['content-type'],
              responseBody: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            });
          });
        },
      );
      out.on('error', (error) => {
        exchanges.push({
          method: req.method ?? '',
          url: req.url ?? '',
          requestHeaders: req.headers,
          requestBody: requestBody.toString('utf8'),
          status: 0,
          contentType: undefined,
          responseBody: `proxy: ${error.message}`,
          ms: performance.now() - started,
        });
        res.destroy();
      });
      out.end(requestBody);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    cutNextStream: (frames) => {
      cutAfter = frames;
    },
    transcript: (clip = 300) =>
      exchanges
        .map(
          (e) =>
            `${e.method} ${e.url} ${clipText(e.requestBody, clip)}\n  → ${e.status} ${e.contentType ?? ''} ${clipText(e.responseBody, clip)}`,
        )
        .join('\n'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
