import { CairnError } from '../lib/errors.js';

/**
 * An embedding handle that cannot be used on this server as configured: a provider key or URL not set, a local
 * model not installed. A 400 for requests that need vectors; hybrid search answers from full text instead.
 */
export class EmbedderUnavailable extends CairnError {
  constructor(detail: string) {
    super(400, detail);
    this.name = 'EmbedderUnavailable';
  }
}
