import { useEffect, useState } from 'preact/hooks';
import { get } from './api';

/** How often the page asks whether anything changed; with the refetch that follows, a change shows within a second. */
const POLL_MS = 250;

/**
 * A number that grows whenever a write lands that this page could show (`GET /v1/cairn/activity`, for one agent or
 * all of them), whoever made it: an agent, another client of the API, a hook, another Cairn process. Put it in an
 * effect's dependencies to refetch. Paused while the tab is hidden.
 */
export function useLive(agentId?: string): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let last: string | undefined;
    let busy = false;
    let stopped = false;
    const poll = async () => {
      if (busy || stopped || document.hidden) return;
      busy = true;
      try {
        const { marker } = await get<{ marker: string }>('/v1/cairn/activity', agentId ? { agent_id: agentId } : {});
        if (last !== undefined && marker !== last && !stopped) setTick((t) => t + 1);
        last = marker;
      } catch {
        // The server is restarting or the password is being asked for: try again on the next beat.
      } finally {
        busy = false;
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [agentId]);
  return tick;
}
