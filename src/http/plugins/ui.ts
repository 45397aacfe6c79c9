import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface UiOptions {
  /** `CAIRN_UI`: `on`, `off`, or unset for on when the server listens on loopback only. */
  mode?: string | undefined;
  /** The built inspector (`dist/ui`, written by scripts/build-ui.mjs); absent when only the server was built. */
  dir?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The page may talk only to this server: scripts and styles are the built files, nothing is fetched from elsewhere,
 * and it cannot be framed (clickjacking of the edit and restore buttons).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * The memory inspector: the built single-page app at `/` and its content-hashed files under `/assets/`. Only the
 * files the build wrote are served (a fixed list read at start-up, so no path reaches outside it); hashed files are
 * cached for a year, the page itself is revalidated each time so a new build is picked up at once.
 */
export const uiPlugin = fp<UiOptions>(
  async (app: FastifyInstance, options) => {
    const mode = (options.mode ?? process.env.CAIRN_UI ?? '').trim().toLowerCase();
    if (mode === 'off' || mode === 'false' || mode === '0') return;
    const dir = options.dir ?? fileURLToPath(new URL('../../ui/', import.meta.url));
    if (!existsSync(join(dir, 'index.html'))) return;
    const assets = new Set(readdirSync(join(dir, 'assets')).filter((name) => !name.endsWith('.gz')));
    const cache = new Map<string, Buffer>();
    const load = async (path: string) => {
      let body = cache.get(path);
      if (!body) cache.set(path, (body = await readFile(path)));
      return body;
    };
    // Decided once listening: `auto` serves the inspector only when nothing beyond this machine can reach it.
    let enabled = false;

    const send = async (request: FastifyRequest, reply: FastifyReply, path: string, cacheControl: string) => {
      const type = TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
      reply.headers({
        ...SECURITY_HEADERS,
        'content-type': type,
        'cache-control': cacheControl,
        vary: 'accept-encoding',
      });
      const gzip = `${path}.gz`;
      if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) && existsSync(gzip)) {
        return reply.header('content-encoding', 'gzip').send(await load(gzip));
      }
      return reply.send(await load(path));
    };

    // `public`: the page and its scripts load before the password is known; the page then asks for it.
    app.get('/', { config: { public: true } }, async (request, reply) => {
      if (!enabled) return reply.callNotFound();
      return send(request, reply, join(dir, 'index.html'), 'no-cache');
    });
    app.get<{ Params: { name: string } }>('/assets/:name', { config: { public: true } }, async (request, reply) => {
      if (!enabled || !assets.has(request.params.name)) return reply.callNotFound();
      return send(request, reply, join(dir, 'assets', request.params.name), 'public, max-age=31536000, immutable');
    });

    app.addHook('onListen', async () => {
      const address = app.server.address() as AddressInfo | null;
      if (!address || typeof address === 'string') return;
      enabled = mode === 'on' || mode === 'true' || mode === '1' || LOOPBACK.test(address.address);
      if (!enabled) {
        app.log.info('memory inspector off: listening beyond loopback (CAIRN_UI=on serves it)');
        return;
      }
      const host = LOOPBACK.test(address.address)
        ? address.family === 'IPv6' && address.address === '::1'
          ? '[::1]'
          : address.address
        : '127.0.0.1';
      // A plain line, not a log record: it is what a person who ran `npm start` looks for.
      process.stderr.write(`cairn: memory inspector at http://${host}:${address.port}/\n`);
    });
  },
  { name: 'ui' },
);
