// Finding and reading the CLIP vocabulary the user supplies beside the weights.

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClipTokenizer } from '@unicontrol/model';

/** OpenAI's BPE file name (the CLIP repository's `bpe_simple_vocab_16e6.txt.gz`). */
export const BPE_GZ = 'bpe_simple_vocab_16e6.txt.gz';

/**
 * Reads a CLIP tokenizer from `path`: OpenAI's `bpe_simple_vocab_16e6.txt.gz`, or a directory
 * holding it or Hugging Face's `vocab.json` + `merges.txt` (openai/clip-vit-large-patch14).
 */
export async function readTokenizer(path: string): Promise<ClipTokenizer> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    if (existsSync(join(path, BPE_GZ))) return readTokenizer(join(path, BPE_GZ));
    if (existsSync(join(path, 'vocab.json')) && existsSync(join(path, 'merges.txt'))) {
      return ClipTokenizer.fromHuggingFace(await readFile(join(path, 'vocab.json'), 'utf8'), await readFile(join(path, 'merges.txt'), 'utf8'));
    }
    throw new Error(`no CLIP vocabulary in ${path}: expected ${BPE_GZ}, or vocab.json and merges.txt`);
  }
  const bytes = await readFile(path);
  return path.endsWith('.gz') ? ClipTokenizer.fromGzip(bytes) : ClipTokenizer.fromBpeText(bytes.toString('utf8'));
}

/**
 * The first place among `candidates` (files or directories) that holds a CLIP vocabulary, or
 * undefined.
 */
export function findVocabulary(candidates: readonly string[]): string | undefined {
  for (const c of candidates.map((p) => resolve(p))) {
    if (!existsSync(c)) continue;
    if (!statSync(c).isDirectory()) return c;
    if (existsSync(join(c, BPE_GZ)) || (existsSync(join(c, 'vocab.json')) && existsSync(join(c, 'merges.txt')))) return c;
  }
  return undefined;
}
