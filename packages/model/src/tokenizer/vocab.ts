/**
 * Loading CLIP's BPE vocabulary. Where to get it:
 * - OpenAI's `bpe_simple_vocab_16e6.txt.gz`, shipped in the CLIP repository
 *   (github.com/openai/CLIP, `clip/bpe_simple_vocab_16e6.txt.gz`): a version line, then merges;
 *   the token ids follow from the merge order.
 * - Hugging Face's `openai/clip-vit-large-patch14` (the text encoder of Stable Diffusion 1.5):
 *   `vocab.json` (token → id) and `merges.txt`. Both give the same 49408 ids.
 */
import { BYTE_CHARS_IN_VOCAB_ORDER } from './byteUnicode.ts';

/** Merges CLIP keeps (48894), so that 2 × 256 byte tokens + the merges + 2 special tokens = 49408 ids. */
export const CLIP_MERGE_COUNT = 49152 - 256 - 2;
export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';

/** A byte-level BPE vocabulary: token ids and merge priorities. */
export interface BpeVocab {
  /** Token (stand-in characters, `</w>` marking a word end) → id. */
  readonly encoder: ReadonlyMap<string, number>;
  /** `"first second"` → merge rank; lower merges first. Tokens never contain a space. */
  readonly ranks: ReadonlyMap<string, number>;
}

/** The merges a merges file lists, after its version line, at most `CLIP_MERGE_COUNT` of them. */
function parseMerges(text: string, where: string): [string, string][] {
  const lines = text.trimEnd().split(/\r?\n/).slice(1, 1 + CLIP_MERGE_COUNT);
  return lines.map((line, i) => {
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new Error(`${where}: line ${i + 2} is not a merge of two tokens: ${JSON.stringify(line.slice(0, 80))}`);
    }
    return [parts[0], parts[1]];
  });
}

function ranksOf(merges: readonly [string, string][]): Map<string, number> {
  return new Map(merges.map(([a, b], rank) => [`${a} ${b}`, rank]));
}

/**
 * The vocabulary from the decompressed text of `bpe_simple_vocab_16e6.txt`: ids are the 256 byte
 * stand-ins, the same with `</w>`, each merge's result in merge order, then `<|startoftext|>`
 * (49406) and `<|endoftext|>` (49407).
 */
export function vocabFromBpeText(text: string): BpeVocab {
  const where = 'CLIP BPE vocabulary';
  const merges = parseMerges(text, where);
  if (merges.length !== CLIP_MERGE_COUNT) {
    throw new Error(`${where}: expected ${CLIP_MERGE_COUNT} merges, found ${merges.length} (truncated file?)`);
  }
  const tokens = [
    ...BYTE_CHARS_IN_VOCAB_ORDER,
    ...BYTE_CHARS_IN_VOCAB_ORDER.map((c) => `${c}</w>`),
    ...merges.map(([a, b]) => a + b),
    START_OF_TEXT,
    END_OF_TEXT,
  ];
  return { encoder: new Map(tokens.map((token, id) => [token, id])), ranks: ranksOf(merges) };
}

/** Gunzips with the web-standard `DecompressionStream` (Node ≥ 18 and browsers). */
async function gunzip(gz: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const input = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  try {
    return new Uint8Array(await new Response(input).arrayBuffer());
  } catch (e) {
    throw new Error(`CLIP BPE vocabulary: not a valid gzip file (${(e as Error).message})`);
  }
}

/** The vocabulary from the bytes of OpenAI's `bpe_simple_vocab_16e6.txt.gz`. */
export async function vocabFromGzip(gz: Uint8Array | ArrayBuffer): Promise<BpeVocab> {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(await gunzip(new Uint8Array(gz)));
  return vocabFromBpeText(text);
}

/**
 * The vocabulary from Hugging Face's `vocab.json` (text or parsed object) and `merges.txt` (text).
 * Checks that every id is an integer, that the special tokens exist, and that every merge result
 * has an id, so a mismatched pair of files fails here rather than mid-prompt.
 */
export function vocabFromHuggingFace(vocabJson: string | Readonly<Record<string, number>>, mergesTxt: string): BpeVocab {
  const where = 'Hugging Face CLIP vocabulary';
  const entries = Object.entries(typeof vocabJson === 'string' ? (JSON.parse(vocabJson) as Record<string, unknown>) : vocabJson);
  const encoder = new Map<string, number>();
  for (const [token, id] of entries) {
    if (!Number.isInteger(id)) throw new Error(`${where}: vocab.json maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not an integer id`);
    encoder.set(token, id as number);
  }
  for (const special of [START_OF_TEXT, END_OF_TEXT]) {
    if (!encoder.has(special)) throw new Error(`${where}: vocab.json has no ${special}`);
  }
  const merges = parseMerges(mergesTxt, `${where} (merges.txt)`);
  for (const [a, b] of merges) {
    if (!encoder.has(a + b)) throw new Error(`${where}: merge "${a} ${b}" has no id in vocab.json`);
  }
  return { encoder, ranks: ranksOf(merges) };
}
