import { CairnError, notFound } from '../lib/errors.js';

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

/** Letta retired message edits: a message may be shared by forked conversations, so it never changes. */
export const messageEditRetired = (): CairnError =>
  new CairnError(
    405,
    'Message editing is no longer supported. Messages are immutable as they may be shared across multiple conversations via forking.',
  );
