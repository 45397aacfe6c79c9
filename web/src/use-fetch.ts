import { useEffect, useState } from 'preact/hooks';
import { errorText } from './format';

/**
 * Loads what a view shows and reloads it when `deps` change (a live tick among them). The last data stays on screen
 * while the next load runs, so live refreshes do not flicker; a superseded load is aborted.
 */
export function useFetch<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: unknown[],
): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setState({ data, error: null });
      },
      (failure: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ data: s.data, error: errorText(failure) }));
      },
    );
    return () => abort.abort();
  }, deps);
  return state;
}
