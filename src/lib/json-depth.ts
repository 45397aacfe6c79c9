export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACE = 0x7d;
export const CLOSE_BRACKET = 0x5d;

/**
 * Tracks the nesting depth of JSON text fed to it in chunks, so a hostile upload (`[[[[…`) is refused while it
 * streams, before anything parses it. It reads bytes: no byte of a multi-byte UTF-8 character is one of the six
 * it looks at, so a chunk may end anywhere.
 */
export class JsonDepthGauge {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number) {}

  /** Returns false as soon as the text has gone deeper than `maxDepth`. */
  feed(chunk: Uint8Array): boolean {
    let { depth, inString, escaped } = this;
    for (const byte of chunk) {
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
      } else if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (++depth > this.maxDepth) return false;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}
