// `unicontrol verify`: runs every case of an oracle fixture directory and checks each tensor.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Device } from '@unicontrol/core';
import type { ClipTokenizer } from '@unicontrol/model';
import { findVocabulary, readTokenizer } from '../vocabulary.ts';
import { CannotRun } from './context.ts';
import { parseManifest } from './manifest.ts';
import { runFixtures, type CaseResult, type VerifyReport } from './runFixtures.ts';

export type { CaseResult, VerifyReport } from './runFixtures.ts';

/** Options of `verifyFixtures`. */
export interface VerifyOptions {
  device: Device;
  /** Weights file (path, or a name in the fixture directory); default the manifest's `weights.file`. */
  weights?: string;
  /** GPU storage of weights and activations (default 'f32'). */
  dtype?: 'f32' | 'f16';
  /** CLIP vocabulary (file or directory); default: found beside the fixtures or in `weights/`. */
  vocab?: string;
  /** Only the cases with these names. */
  cases?: readonly string[];
  /** Called as each case finishes. */
  onCase?: (result: CaseResult) => void;
}

/** Reads and sanity-checks `<dir>/manifest.json`. */
async function readManifest(dir: string) {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the fixture manifest ${path}: ${(e as Error).message}`);
  }
  return parseManifest(text, path);
}

/** Runs the oracle cases of fixture directory `dir` (manifest.json, weights, golden.safetensors). */
export async function verifyFixtures(dir: string, options: VerifyOptions): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  const inDir = (file: string): string => (file.includes('/') ? resolve(file) : join(dir, file));
  const vocabPlaces = [dir, join(dir, '..', '..', 'clip'), 'weights'];
  const vocab = options.vocab ?? findVocabulary(vocabPlaces);
  let tokenizer: Promise<ClipTokenizer> | undefined;
  return runFixtures(
    { where: dir, manifest, open: async (file) => inDir(file), name: inDir },
    {
      ...options,
      tokenizer: () => {
        if (!vocab) throw new CannotRun(`no CLIP vocabulary found (looked in ${vocabPlaces.join(', ')}); pass --vocab`);
        tokenizer ??= readTokenizer(vocab);
        return tokenizer;
      },
    },
  );
}
