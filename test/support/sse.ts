/** A parsed SSE frame: its `event:` name (if any) and the raw `data:` text. */
export interface SseFrame {
  event: string | undefined;
  data: string;
}

/** Reads a whole SSE response body into frames, exactly as sent (no SDK in between). */
export async function readSse(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | null; frames: SseFrame[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), frames: parseSse(text) };
}

export function parseSse(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      return { event, data: data.join('\n') };
    });
}

export const json = (frame: SseFrame): any => JSON.parse(frame.data);
