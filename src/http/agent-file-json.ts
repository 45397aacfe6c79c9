import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { badRequest, CairnError } from '../lib/errors.js';
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  JsonDepthGauge,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
} from '../lib/json-depth.js';
import { IMPORT_WORKER_MODULE, workerModule } from '../lib/worker-modules.js';
import type { AgentFile, AgentFileMessage } from '../schemas/agent-file.js';

/** Messages per reply from the worker: each is deserialized on the event loop, so each must stay small. */
const MESSAGE_BATCH = 1000;

/**
 * The worker: it gauges each chunk's nesting as it arrives, parses and validates the whole text at the end (zod
 * over 40,000 messages holds a thread for seconds), and sends the validated file back as a skeleton plus the agents'
 * messages in batches, each only when the event loop asks for the next: a port delivers every message already
 * queued in one go, so batches sent unasked would be deserialized back to back, one long stall again.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const validation = (${IMPORT_WORKER_MODULE})(workerData.validation);
const QUOTE = ${QUOTE}, BACKSLASH = ${BACKSLASH}, OPEN_BRACE = ${OPEN_BRACE}, OPEN_BRACKET = ${OPEN_BRACKET};
const CLOSE_BRACE = ${CLOSE_BRACE}, CLOSE_BRACKET = ${CLOSE_BRACKET};
const JsonDepthGauge = ${JsonDepthGauge.toString()};
const uploads = new Map();
parentPort.on('message', async (m) => {
  if (m.type === 'start') return void uploads.set(m.id, { gauge: new JsonDepthGauge(m.maxDepth), chunks: [] });
  const upload = uploads.get(m.id);
  if (!upload) return;
  if (m.type === 'abort') return void uploads.delete(m.id);
  if (m.type === 'chunk') {
    if (upload.gauge.feed(m.bytes)) upload.chunks.push(m.bytes);
    else {
      uploads.delete(m.id);
      parentPort.postMessage({ id: m.id, type: 'too-deep' });
    }
    return;
  }
  if (m.type === 'next') {
    const next = upload.batches.shift();
    if (next) parentPort.postMessage({ id: m.id, type: 'messages', agent: next[0], batch: next[1] });
    else {
      uploads.delete(m.id);
      parentPort.postMessage({ id: m.id, type: 'done' });
    }
    return;
  }
  let doc;
  try {
    doc = JSON.parse(Buffer.concat(upload.chunks).toString('utf8'));
  } catch {
    uploads.delete(m.id);
    return void parentPort.postMessage({ id: m.id, type: 'corrupt' });
  }
  upload.chunks = [];
  const verdict = (await validation).checkAgentFile(doc);
  if (uploads.get(m.id) !== upload) return;
  if (!verdict.ok) {
    uploads.delete(m.id);
    return void parentPort.postMessage({ id: m.id, type: 'invalid', problem: verdict.problem });
  }
  doc = verdict.file;
  upload.batches = [];
  doc.agents.forEach((agent, index) => {
    for (let start = 0; start < agent.messages.length; start += ${MESSAGE_BATCH})
      upload.batches.push([index, agent.messages.slice(start, start + ${MESSAGE_BATCH})]);
    agent.messages = [];
  });
  parentPort.postMessage({ id: m.id, type: 'skeleton', doc });
});
`;

type Reply =
  | { id: number; type: 'too-deep' | 'corrupt' | 'done' }
  | { id: number; type: 'invalid'; problem: string }
  | { id: number; type: 'skeleton'; doc: AgentFile }
  | { id: number; type: 'messages'; agent: number; batch: unknown[] };

interface Pending {
  doc?: AgentFile;
  reply(message: Reply): void;
  fail(error: Error): void;
}

export interface JsonUploadLimits {
  maxBytes: number;
  maxDepth: number;
}

/** The connection is closed with the answer: the rest of the upload is never read, so the socket cannot be reused. */
const tooLarge = (maxBytes: number) =>
  new CairnError(413, `Agent file is larger than the ${maxBytes} bytes this server accepts.`, { connection: 'close' });

/**
 * Parses `.af` uploads in one worker thread, started on first use and unreferenced while idle: the upload streams
 * into it chunk by chunk, so a file many megabytes long costs the event loop the copies and the deserialization of
 * small batches, never one long parse.
 */
export class AgentFileJsonParser {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /**
   * The upload, parsed and validated as an AgentFile (a 400 with zod's first problems when it is not). Refuses at the chunk that crosses a limit and destroys the stream, so the rest of the upload
   * is never read: past `maxBytes` a 413 (busboy's `limit` event), past `maxDepth` a 400.
   */
  parse(stream: Readable, limits: JsonUploadLimits): Promise<AgentFile> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<AgentFile>((resolve, reject) => {
      const settle = () => {
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
      };
      const fail = (error: Error) => {
        settle();
        stream.destroy();
        worker.postMessage({ id, type: 'abort' });
        reject(error);
      };
      const pending: Pending = {
        fail,
        reply: (message) => {
          if (message.type === 'too-deep')
            fail(
              new CairnError(400, `Agent file nests deeper than ${limits.maxDepth} levels.`, { connection: 'close' }),
            );
          else if (message.type === 'corrupt') {
            settle();
            reject(badRequest('Corrupted agent file format.'));
          } else if (message.type === 'invalid') {
            settle();
            reject(badRequest(message.problem));
          } else if (message.type === 'skeleton' || message.type === 'messages') {
            if (message.type === 'skeleton') pending.doc = message.doc;
            else pending.doc!.agents[message.agent]!.messages.push(...(message.batch as AgentFileMessage[]));
            setImmediate(() => {
              if (this.pending.get(id) === pending) worker.postMessage({ id, type: 'next' });
            });
          } else {
            settle();
            resolve(pending.doc!);
          }
        },
      };
      this.pending.set(id, pending);
      worker.ref();
      worker.postMessage({ id, type: 'start', maxDepth: limits.maxDepth });
      stream.on('data', (chunk: Buffer) => worker.postMessage({ id, type: 'chunk', bytes: chunk }));
      stream.on('limit', () => fail(tooLarge(limits.maxBytes)));
      stream.on('error', (error) => {
        if (this.pending.has(id)) fail(error);
      });
      stream.on('end', () => {
        if (this.pending.has(id)) worker.postMessage({ id, type: 'end' });
      });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { validation: workerModule('../schemas/agent-file-check.js', import.meta.url) },
    });
    worker.on('message', (message: Reply) => this.pending.get(message.id)?.reply(message));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('the agent file parser stopped'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const pending of [...this.pending.values()]) pending.fail(error);
  }
}
