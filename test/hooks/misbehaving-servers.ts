import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { freePort } from '../support/cli.js';

/** A real server on a loopback port that fails in one way, for the hooks to meet as they would in the field. */
export interface Misbehaving {
  name: string;
  url: string;
  close(): Promise<void>;
}

async function listening(server: Server, name: string): Promise<Misbehaving> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Accepts every connection and never answers. */
export function hangingServer(): Promise<Misbehaving> {
  return listening(
    createHttpServer(() => {}),
    'hanging',
  );
}

/** A port nothing listens on: connections are refused at once. */
export async function deadPort(): Promise<Misbehaving> {
  return { name: 'dead port', url: `http://127.0.0.1:${await freePort()}`, close: async () => {} };
}

/** Answers every request at once with a 500. */
export function failingServer(): Promise<Misbehaving> {
  return listening(
    createHttpServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'Internal Server Error' }));
    }),
    'HTTP 500',
  );
}

/**
 * Answers with a well-formed 200 sent one byte per second: from the status line on (`headers`), or with the
 * headers at once and only the body trickling (`body`, what an SDK timeout that stops at the headers misses).
 */
export function tricklingServer(part: 'headers' | 'body'): Promise<Misbehaving> {
  const body = '[]'.padEnd(4_096, ' ');
  const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  const server = createTcpServer((socket) => {
    socket.on('error', () => {});
    // Whatever the request, once its head has arrived.
    socket.once('data', () => {
      let rest = part === 'headers' ? head + body : body;
      if (part === 'body') socket.write(head);
      const drip = setInterval(() => {
        if (rest.length === 0 || socket.destroyed) return clearInterval(drip);
        socket.write(rest[0]!);
        rest = rest.slice(1);
      }, 1_000);
      socket.on('close', () => clearInterval(drip));
    });
  });
  return listening(server, `1 byte/s ${part}`);
}
