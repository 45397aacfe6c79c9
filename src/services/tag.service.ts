import type { Stores } from '../store/index.js';

export interface ListTagsQuery {
  after?: string | undefined;
  before?: string | undefined;
  limit: number;
  order?: 'asc' | 'desc' | undefined;
  name?: string | undefined;
}

/** `GET /tags/`: the distinct tags of agents and blocks, ordered and paged by the tag itself. */
export class TagService {
  constructor(private readonly stores: Stores) {}

  list(query: ListTagsQuery): Promise<string[]> {
    return this.stores.tags.list({ ...query, order: query.order ?? 'asc' });
  }
}
