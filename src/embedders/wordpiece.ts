/**
 * The BERT WordPiece tokenizer of Hugging Face `tokenizer.json` files, as sentence-embedding models of the BERT
 * family use it (all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2, nomic-embed-text): BertNormalizer (control
 * characters dropped, CJK characters split, lower case, accents stripped), BertPreTokenizer (whitespace, then each
 * punctuation character on its own), greedy longest-match WordPiece with its `##` continuation prefix, and the
 * `[CLS] … [SEP]` template. Truncated to the model's length; a text is only read as far as that length needs.
 */

interface TokenizerJson {
  normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null; clean_text?: boolean } | null;
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    unk_token?: string;
    continuing_subword_prefix?: string;
    max_input_chars_per_word?: number;
  };
  post_processor?: {
    type?: string;
    cls?: [string, number];
    sep?: [string, number];
    special_tokens?: Record<string, { ids?: number[] }>;
  } | null;
  truncation?: { max_length?: number } | null;
}

export interface Encoded {
  ids: number[];
}

export class WordPieceTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly unk: number;
  private readonly cls: number;
  private readonly sep: number;
  private readonly prefix: string;
  private readonly maxWordChars: number;
  private readonly lowercase: boolean;
  private readonly stripAccents: boolean;

  /** `maxLength`: the model's limit in tokens, special tokens included. */
  constructor(
    json: TokenizerJson,
    readonly maxLength: number,
  ) {
    const model = json.model;
    if (model?.type !== 'WordPiece' || !model.vocab)
      throw new Error(`tokenizer model '${model?.type ?? 'none'}' is not supported (WordPiece only)`);
    this.vocab = new Map(Object.entries(model.vocab));
    this.prefix = model.continuing_subword_prefix ?? '##';
    this.maxWordChars = model.max_input_chars_per_word ?? 100;
    const id = (token: string | undefined, fallback: string) => {
      const found = this.vocab.get(token ?? fallback);
      if (found === undefined) throw new Error(`tokenizer has no '${token ?? fallback}' token`);
      return found;
    };
    this.unk = id(model.unk_token, '[UNK]');
    const post = json.post_processor;
    this.cls = post?.cls?.[1] ?? post?.special_tokens?.['[CLS]']?.ids?.[0] ?? id(undefined, '[CLS]');
    this.sep = post?.sep?.[1] ?? post?.special_tokens?.['[SEP]']?.ids?.[0] ?? id(undefined, '[SEP]');
    this.lowercase = json.normalizer?.lowercase ?? true;
    this.stripAccents = json.normalizer?.strip_accents ?? this.lowercase;
  }

  encode(text: string): Encoded {
    const budget = this.maxLength - 2;
    const ids = [this.cls];
    for (const word of this.words(text)) {
      for (const piece of this.pieces(word)) {
        if (ids.length - 1 >= budget) break;
        ids.push(piece);
      }
      if (ids.length - 1 >= budget) break;
    }
    ids.push(this.sep);
    return { ids };
  }

  private *words(text: string): Generator<string> {
    let normal = text.replace(/\ufffd|[^\P{Cc}\t\n\r]/gu, '');
    normal = normal.replace(/[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]/g, (c) => ` ${c} `);
    if (this.lowercase) normal = normal.toLowerCase();
    if (this.stripAccents) normal = normal.normalize('NFD').replace(/\p{Mn}+/gu, '');
    for (const chunk of normal.split(/\s+/)) {
      if (chunk === '') continue;
      let word = '';
      for (const ch of chunk) {
        if (isPunctuation(ch)) {
          if (word) yield word;
          word = '';
          yield ch;
        } else word += ch;
      }
      if (word) yield word;
    }
  }

  private pieces(word: string): number[] {
    if ([...word].length > this.maxWordChars) return [this.unk];
    const out: number[] = [];
    let start = 0;
    while (start < word.length) {
      let end = word.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? this.prefix : '') + word.slice(start, end);
        found = this.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [this.unk];
      out.push(found);
      start = end;
    }
    return out;
  }
}

/** BERT's punctuation: Unicode P* classes plus the ASCII symbols between letters and digits. */
function isPunctuation(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  if (
    (code >= 33 && code <= 47) ||
    (code >= 58 && code <= 64) ||
    (code >= 91 && code <= 96) ||
    (code >= 123 && code <= 126)
  )
    return true;
  return /\p{P}/u.test(ch);
}
