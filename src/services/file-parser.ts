import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  FileRangeError,
  embeddingChunks,
  numberedView,
  splitLines,
  splitSentences,
  viewUnits,
  type ChunkingStrategy,
  type FileKind,
} from '../domain/files.js';

const require = createRequire(import.meta.url);

export interface ParsedFile {
  /** The file's text: what `grep_files` searches and `open_files` shows. */
  text: string;
  /** Passages to embed. */
  chunks: string[];
  /** The numbered view an agent sees when the file opens whole. */
  view: string;
}

export class FileParseError extends Error {}

/**
 * The worker's code, evaluated so that the same source runs from `src/` under the test runner and from `dist/`. The
 * chunking functions are the domain's own, passed in as source (they are plain functions of strings). PDF text comes
 * from pdf.js with fonts, evaluation and network fetches off; parsing a large PDF or splitting a 50 MB file would
 * hold the event loop for seconds, so none of it runs there. The class is bound as an expression because a bundler may
 * turn its declaration into an anonymous `class extends Error`, which is no statement (every parse failed so).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const FileRangeError = ${FileRangeError.toString()};
${splitLines.toString()}
${splitSentences.toString()}
${viewUnits.toString()}
${numberedView.toString()}
${embeddingChunks.toString()}
const decodeEntities = (s) => s
  .replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'")
  .replace(/&#(\\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
  .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
  .replace(/&amp;/g, '&');
function htmlText(html) {
  return decodeEntities(html
    .replace(/<(script|style|noscript|template)[^>]*>[\\s\\S]*?<\\/\\1\\s*>/gi, '')
    .replace(/<!--[\\s\\S]*?-->/g, '')
    .replace(/<(br|\\/p|\\/div|\\/li|\\/h[1-6]|\\/tr|\\/title)[^>]*>/gi, '\\n')
    .replace(/<[^>]+>/g, ''))
    .replace(/[ \\t]+\\n/g, '\\n').replace(/\\n{3,}/g, '\\n\\n').trim();
}
async function pdfText(bytes) {
  const pdfjs = await import(workerData.pdfjs);
  const doc = await pdfjs.getDocument({
    data: bytes, isEvalSupported: false, useSystemFonts: false, disableFontFace: true, useWorkerFetch: false,
    stopAtErrors: true, verbosity: 0,
  }).promise;
  const pages = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) if (typeof item.str === 'string') text += item.str + (item.hasEOL ? '\\n' : '');
    pages.push(text.trim());
    page.cleanup();
  }
  await doc.destroy();
  return pages.join('\\n\\n');
}
parentPort.on('message', async ({ id, bytes, kind, name, strategy }) => {
  try {
    let text;
    if (kind === 'pdf') text = await pdfText(bytes);
    else {
      let raw;
      try { raw = new TextDecoder('utf-8', { fatal: true }).decode(bytes); }
      catch { throw new Error('the file is not valid UTF-8 text'); }
      text = kind === 'html' ? htmlText(raw) : raw;
    }
    if (text.includes('\\u0000')) throw new Error('the file contains NUL bytes; it is not a text file');
    if (text.trim() === '') throw new Error('no text could be extracted from the file');
    const chunks = ${embeddingChunks.name}(text);
    const view = ${numberedView.name}(name, text, strategy).join('\\n');
    parentPort.postMessage({ id, text, chunks, view });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: (value: ParsedFile) => void;
  reject: (error: Error) => void;
}

/**
 * Parses uploads in one worker thread, started on first use and kept while work is queued (uploads are rare; one
 * worker keeps a 2-core machine responsive).
 */
export class FileParser {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  parse(bytes: Uint8Array, kind: FileKind, name: string, strategy: ChunkingStrategy): Promise<ParsedFile> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<ParsedFile>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, bytes, kind, name, strategy });
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
      workerData: { pdfjs: pathToFileURL(require.resolve('pdfjs-dist/legacy/build/pdf.mjs')).href },
    });
    worker.on('message', (message: { id: number; error?: string } & Partial<ParsedFile>) => {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.error !== undefined) pending.reject(new FileParseError(message.error));
      else pending.resolve({ text: message.text!, chunks: message.chunks!, view: message.view! });
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new FileParseError('the file parser stopped'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(new FileParseError(error.message));
    this.pending.clear();
  }
}
