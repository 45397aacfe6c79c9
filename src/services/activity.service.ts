import { missing } from '../domain/errors.js';
import type { Stores } from '../store/index.js';

/** What the memory inspector reads beyond Letta's routes: per-agent counts, and a marker that moves on each write. */
export class ActivityService {
  constructor(private readonly stores: Stores) {}

  summaries(agentIds: string[]) {
    return this.stores.activity.summaries([...new Set(agentIds)]);
  }

  async marker(agentId: string | undefined): Promise<{ marker: string }> {
    if (agentId !== undefined && !(await this.stores.agents.findById(agentId))) throw missing('Agent', agentId);
    return { marker: await this.stores.activity.marker(agentId) };
  }
}
