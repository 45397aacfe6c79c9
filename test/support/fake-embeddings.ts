import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP server speaking OpenAI's `POST /v1/embeddings` (+ `GET /v1/models`) and Ollama's `POST /api/embed`
 * (+ `GET /api/tags`), for testing the remote embedders over real HTTP. Vectors are deterministic bags of
 * hashed words, so texts sharing words are similar; `dim`, failures and the key it demands can be changed live.
 */
export interface FakeEmbeddings {
  baseUrl: string;
  /** Every request body received, in order. */
  requests: { path: string; body: any; authorization: string | undefined }[];
  dim: number;
  /** The next `failures` embedding requests answer HTTP 503. */
  failures: number;
  /** When set, OpenAI-protocol requests need `Authorization: Bearer <apiKey>`. */
  apiKey: string | undefined;
  close(): Promise<void>;
}

export function fakeVector(text: string, dim: number): number[] {
  const vector = new Array<number>(dim).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let h = 2166136261;
    for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    vector[Math.abs(h) % dim]! += 1;
  }
  vector[dim - 1]! += 0.01;
  return vector;
}

async function readBody(request: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export async function startFakeEmbeddings(
  options: { dim?: number; apiKey?: string; models?: string[] } = {},
): Promise<FakeEmbeddings> {
  const fake: FakeEmbeddings = {
    baseUrl: '',
    requests: [],
    dim: options.dim ?? 16,
    failures: 0,
    apiKey: options.apiKey,
    close: async () => {},
  };
  const server: Server = createServer((request, response) => void handle(request, response));
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const path = request.url ?? '';
    const body = request.method === 'POST' ? await readBody(request) : undefined;
    fake.requests.push({ path, body, authorization: request.headers.authorization });
    if (request.method === 'GET' && path === '/v1/models')
      return send(200, {
        object: 'list',
        data: (options.models ?? ['fake-embed']).map((id) => ({ id, object: 'model' })),
      });
    if (request.method === 'GET' && path === '/api/tags')
      return send(200, {
        models: [
          { name: 'nomic-embed-text:latest', details: { family: 'nomic-bert' } },
          { name: 'llama3:latest', details: { family: 'llama' } },
        ],
      });
    if (request.method !== 'POST') return send(404, { error: 'not found' });
    if (fake.failures > 0) {
      fake.failures--;
      return send(503, { error: { message: 'overloaded' } });
    }
    if (path === '/v1/embeddings') {
      if (fake.apiKey && request.headers.authorization !== `Bearer ${fake.apiKey}`)
        return send(401, { error: { message: 'Incorrect API key provided' } });
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      // Reversed on purpose: clients must order by `index`.
      const data = inputs
        .map((text, index) => ({ object: 'embedding', index, embedding: fakeVector(text, fake.dim) }))
        .reverse();
      return send(200, { object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (path === '/api/embed') {
      const inputs: string[] = Array.isArray(body.input) ? body.input : [body.input];
      return send(200, { model: body.model, embeddings: inputs.map((text) => fakeVector(text, fake.dim)) });
    }
    return send(404, { error: 'not found' });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
