import { bpe } from './bpe.ts';
import { byteEncode } from './byteUnicode.ts';
import { cleanText } from './clean.ts';
import { splitWords } from './split.ts';
import { END_OF_TEXT, START_OF_TEXT, vocabFromBpeText, vocabFromGzip, vocabFromHuggingFace, type BpeVocab } from './vocab.ts';

/** Options for `ClipTokenizer.tokenize()`. */
export interface TokenizeOptions {
  /** Ids per prompt, start and end tokens included (default 77, CLIP's context length). */
  length?: number;
}

/** Words whose ids the cache keeps before it starts over; bounds memory in a long-running page. */
const CACHE_LIMIT = 100_000;

/**
 * CLIP's byte-level BPE tokenizer (OpenAI `SimpleTokenizer`, as Stable Diffusion 1.5 uses it via
 * Hugging Face's `CLIPTokenizer` for `openai/clip-vit-large-patch14`), with ftfy taken as the
 * identity. Build one from OpenAI's `bpe_simple_vocab_16e6.txt.gz` or from Hugging Face's
 * `vocab.json` + `merges.txt` (see `vocab.ts` for where to get them); both give the same ids.
 *
 * @example
 * const tok = await ClipTokenizer.fromGzip(gzBytes);
 * const ids = tok.tokenize(['a photo of a cat', '']); // Int32Array, 2 × 77
 */
export class ClipTokenizer {
  /** Id of `<|startoftext|>` (49406 for CLIP). */
  readonly bos: number;
  /** Id of `<|endoftext|>` (49407 for CLIP); it also pads. */
  readonly eos: number;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(private readonly vocab: BpeVocab) {
    this.bos = this.idOf(START_OF_TEXT);
    this.eos = this.idOf(END_OF_TEXT);
  }

  /** From the bytes of OpenAI's `bpe_simple_vocab_16e6.txt.gz`. */
  static async fromGzip(gz: Uint8Array | ArrayBuffer): Promise<ClipTokenizer> {
    return new ClipTokenizer(await vocabFromGzip(gz));
  }

  /** From the decompressed text of `bpe_simple_vocab_16e6.txt`. */
  static fromBpeText(text: string): ClipTokenizer {
    return new ClipTokenizer(vocabFromBpeText(text));
  }

  /** From Hugging Face's `vocab.json` (text or parsed) and `merges.txt` (text). */
  static fromHuggingFace(vocabJson: string | Readonly<Record<string, number>>, mergesTxt: string): ClipTokenizer {
    return new ClipTokenizer(vocabFromHuggingFace(vocabJson, mergesTxt));
  }

  /** Number of ids in the vocabulary (49408 for CLIP). */
  get vocabSize(): number {
    return this.vocab.encoder.size;
  }

  /**
   * The ids of `text` without start/end tokens and without truncation: clean (HTML references
   * decoded twice, whitespace collapsed, lower-cased), split into words, BPE each word.
   * `<|startoftext|>` / `<|endoftext|>` written in the text become their special ids.
   */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const word of splitWords(cleanText(text))) ids.push(...this.wordIds(word));
    return ids;
  }

  /**
   * Ids for a batch of prompts as the text encoder takes them: row-major `[texts.length, length]`,
   * each row `bos`, the first `length − 2` content ids, `eos`, then `eos` as padding (Hugging Face's
   * `truncation=True, padding='max_length'`).
   */
  tokenize(texts: readonly string[], options: TokenizeOptions = {}): Int32Array {
    const length = options.length ?? 77;
    if (!Number.isInteger(length) || length < 2) throw new Error(`tokenize: length must be an integer >= 2, got ${length}`);
    const out = new Int32Array(texts.length * length).fill(this.eos);
    texts.forEach((text, row) => {
      const content = this.encode(text).slice(0, length - 2);
      out[row * length] = this.bos;
      out.set(content, row * length + 1);
    });
    return out;
  }

  private wordIds(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const special = word === START_OF_TEXT ? this.bos : word === END_OF_TEXT ? this.eos : undefined;
    const ids = special !== undefined ? [special] : bpe(byteEncode(word), this.vocab.ranks).map((t) => this.idOf(t));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  private idOf(token: string): number {
    const id = this.vocab.encoder.get(token);
    if (id === undefined) throw new Error(`CLIP tokenizer: token ${JSON.stringify(token)} has no id in the vocabulary`);
    return id;
  }
}
