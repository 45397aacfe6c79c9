export interface ModelHandle {
  provider: string;
  model: string;
  handle: string;
}

/** `provider/model` → its parts; undefined when either side is empty. The model may itself contain slashes. */
export function splitHandle(handle: string): ModelHandle | undefined {
  const slash = handle.indexOf('/');
  if (slash <= 0 || slash === handle.length - 1) return undefined;
  return { provider: handle.slice(0, slash), model: handle.slice(slash + 1), handle };
}
