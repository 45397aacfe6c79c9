import { notFound, type CairnError } from '../lib/errors.js';

/** An edit an agent's own tool attempted and may not make; the runtime turns it into an error tool return. */
export class MemoryEditError extends Error {}

export const READ_ONLY_BLOCK_ERROR = 'Error This block is read-only and cannot be edited.';

/** Letta's names for the resources whose absence is a 404 (`… with id '…' not found`). */
type Resource =
  | 'Agent'
  | 'Block'
  | 'Conversation'
  | 'Identity'
  | 'Tool'
  | 'Archive'
  | 'Passage'
  | 'Run'
  | 'Message'
  | 'Step'
  | 'Group'
  | 'Job';

/** Letta's 404 text for a resource that does not exist (or that the caller may not see). */
export const missing = (resource: Resource, id: string): CairnError =>
  notFound(`${resource} with id '${id}' not found`);
