import type { FastifyRequest } from 'fastify';

/**
 * Letta's `is_1_0_sdk_version`: a 1.x SDK (or anything without a User-Agent) only gets the relationships it
 * asks for with `include=`; older clients get every relationship.
 */
export function isModernClient(request: FastifyRequest): boolean {
  if (request.headers['x-stainless-package-version'] !== undefined) return true;
  const userAgent = request.headers['user-agent'];
  if (!userAgent) return true;
  if (/^(@letta-ai\/)?letta-client\/1\./.test(userAgent)) return true;
  return !userAgent.includes('/');
}
