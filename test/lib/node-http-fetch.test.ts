import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHttpFetch } from '../../src/lib/node-http-fetch.js';

describe('nodeHttpFetch (the providers’ and the hooks’ fetch)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (request.url === '/empty') return void response.writeHead(204).end();
        if (request.url === '/slow') return void setTimeout(() => response.end('late'), 2_000);
        response.setHeader('set-cookie', ['a=1', 'b=2']);
        response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ method: request.method, auth: request.headers.authorization ?? null, body }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends method, headers and body, and returns a real Response', async () => {
    const response = await nodeHttpFetch(`${base}/echo`, {
      method: 'POST',
      headers: { authorization: 'Bearer pw', 'content-type': 'application/json' },
      body: '{"x":1}',
    });
    expect(response).toBeInstanceOf(Response);
    expect(response.ok).toBe(true);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(await response.json()).toEqual({ method: 'POST', auth: 'Bearer pw', body: '{"x":1}' });
  });

  it('keeps error statuses and bodiless responses', async () => {
    const missing = await nodeHttpFetch(new URL(`${base}/missing`));
    expect(missing.status).toBe(404);
    expect(missing.ok).toBe(false);
    const empty = await nodeHttpFetch(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('rejects on abort and on a refused connection', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(nodeHttpFetch(`${base}/slow`, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(nodeHttpFetch('http://127.0.0.1:9/')).rejects.toThrow();
  });
});
