import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { lettaDate } from '../domain/letta-messages.js';
import type { ChunkSource } from '../domain/turns.js';

/** Seconds without output before a keep-alive ping (Letta's LETTA_KEEPALIVE_INTERVAL); tests shorten it. */
const keepAliveMs = () => Number(process.env.CAIRN_SSE_KEEPALIVE_MS ?? 20_000);

/**
 * Writes a run as Letta's SSE (§6.2–6.3): unnamed `data:` frames, a first ping carrying the run id, keep-alive
 * pings, `event: error` for error chunks and `data: [DONE]` last. The socket closing only stops this writer;
 * the run itself keeps going.
 */
export function writeSse(
  reply: FastifyReply,
  runId: string,
  includePings: boolean,
  source: ChunkSource,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let lastSeqId = 0;
  let lastWrite = Date.now();
  let closed = false;
  let corked = false;
  const write = (text: string) => {
    if (closed) return;
    lastWrite = Date.now();
    // Frames produced by one burst of work (deltas parsed from one read, the final chunks) leave in one syscall.
    if (!corked) {
      corked = true;
      raw.cork();
      process.nextTick(() => {
        corked = false;
        raw.uncork();
      });
    }
    raw.write(text);
  };
  const ping = (withSeq: boolean) =>
    write(
      `data: ${JSON.stringify({ id: `ping-${randomUUID()}`, date: lettaDate(new Date().toISOString()), message_type: 'ping', run_id: runId, ...(withSeq ? { seq_id: lastSeqId } : {}) })}\n\n`,
    );
  // The first ping waits until the work already queued has run, so the model request the turn just started leaves
  // before it (the model call is on the turn's critical path, the ping is not); it still precedes every chunk.
  let opened = !includePings;
  const open = () => {
    if (opened) return;
    opened = true;
    ping(false);
  };
  if (!opened) setImmediate(open);

  return new Promise<void>((resolve) => {
    let stop: () => void = () => {};
    const interval = setInterval(
      () => {
        if (!opened) open();
        else if (includePings && Date.now() - lastWrite >= keepAliveMs()) ping(true);
      },
      Math.min(1000, keepAliveMs()),
    );
    const finish = () => {
      if (closed) return;
      open();
      write('data: [DONE]\n\n');
      closed = true;
      clearInterval(interval);
      raw.end();
      resolve();
    };
    raw.once('close', () => {
      if (closed) return;
      closed = true;
      clearInterval(interval);
      stop();
      resolve();
    });
    stop = source.start((chunk) => {
      open();
      lastSeqId = chunk.seqId;
      write(chunk.error ? `event: error\ndata: ${chunk.data}\n\n` : `data: ${chunk.data}\n\n`);
    }, finish);
  });
}
