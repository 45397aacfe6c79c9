import { AsyncLocalStorage } from 'node:async_hooks';
import type { Actor, ActorKind } from '../schemas/block-history.js';

/**
 * The actor of the work in progress, set once where the work enters (an HTTP request, an import), so that the one
 * write path of blocks can record it without every service method between the two passing it along.
 */
const current = new AsyncLocalStorage<Actor>();

export function actingAs<T>(actor: Actor, work: () => T): T {
  return current.run(actor, work);
}

const SYSTEM: Actor = { kind: 'system', name: null };

export function currentActor(): Actor {
  return current.getStore() ?? SYSTEM;
}

/** The header a client names itself with: `<kind>` or `<kind>:<name>`, e.g. `hook:claude-code`, `api:cli`. */
export const ACTOR_HEADER = 'x-cairn-actor';

const CLAIMABLE = new Set<string>(['agent_tool', 'api', 'hook', 'import']);
const MAX_NAME = 100;

/**
 * The actor a request claims, else `api` named after its User-Agent. A claim is provenance, not authority: any
 * client that may write may also say who it is, so an unknown kind falls back to `api` instead of failing the write.
 */
export function actorFromHeaders(claimed: string | undefined, userAgent: string | undefined): Actor {
  if (claimed) {
    const [kind = '', ...rest] = claimed.split(':');
    const name = rest.join(':').trim().slice(0, MAX_NAME) || null;
    if (CLAIMABLE.has(kind.trim())) return { kind: kind.trim() as ActorKind, name };
  }
  return { kind: 'api', name: userAgent?.trim().split(/\s+/)[0]?.slice(0, MAX_NAME) || null };
}
