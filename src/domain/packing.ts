import { formatLettaTime } from './prompts/memory.js';

/** Letta's packed JSON texts (`letta/system.py`, §7.6): Python `json.dumps(..., indent=2)` matches JSON.stringify(…, 2). */
export const packedTime = (timezone: string): string => formatLettaTime(new Date(), timezone);

export function packToolReturn(ok: boolean, message: unknown, timezone: string): string {
  return JSON.stringify({ status: ok ? 'OK' : 'Failed', message, time: packedTime(timezone) }, null, 2);
}

export const packedLogin = (timezone: string): string =>
  JSON.stringify({ type: 'login', last_login: 'Never (first login)', time: packedTime(timezone) }, null, 2);

export const packedHeartbeat = (reason: string, timezone: string): string =>
  JSON.stringify({ type: 'heartbeat', reason, time: packedTime(timezone) }, null, 2);

export const packedSystemAlert = (message: string, timezone: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ type: 'system_alert', message, time: packedTime(timezone), ...extra }, null, 2);

export const HEARTBEAT_REASON =
  '[This is an automated system message hidden from the user] Function called using request_heartbeat=true, returning control';
export const HEARTBEAT_FAILED_REASON =
  '[This is an automated system message hidden from the user] Function call failed, returning control';
export const KEEP_ALIVE_PING =
  '<system-alert>Automated keep-alive ping. Ignore this message and continue from where you stopped.</system-alert>';
export const DENIED = (reason: string | null | undefined) =>
  `Error: request to call tool denied. User reason: ${reason ?? ''}`;
export const CANCELLED_DENIAL = 'The user cancelled the request, so the tool call was denied.';

/** Truncation at `return_char_limit`, with Letta's notice (§9). */
export function truncateReturn(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}... [NOTE: function output was truncated since it exceeded the character limit (${text.length} > ${limit})]`;
}
