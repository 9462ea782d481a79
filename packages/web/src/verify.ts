// `verify` in a browser: the oracle cases of a fixture set read over HTTP (manifest.json, golden
// and weights files by URL, streamed with Range requests), run by the same code as
// `unicontrol verify` in Node.

import type { Device } from '@unicontrol/core';
import type { ClipTokenizer } from '@unicontrol/model';
import { CannotRun } from '../../unicontrol/src/verify/context.ts';
import { parseManifest } from '../../unicontrol/src/verify/manifest.ts';
import { runFixtures, type CaseResult, type VerifyReport } from '../../unicontrol/src/verify/runFixtures.ts';
import { urlSource } from './urlSource.ts';

/** Options of `verifyFixturesAt`. */
export interface BrowserVerifyOptions {
  device: Device;
  /** The CLIP tokenizer (cases that tokenize fail as `cannot_run` without it). */
  tokenizer?: ClipTokenizer;
  dtype?: 'f32' | 'f16';
  cases?: readonly string[];
  onCase?: (result: CaseResult) => void;
}

/** Runs the cases of the fixture set at `baseUrl` (a folder URL ending in '/'), as `verifyFixtures` does in Node. */
export async function verifyFixturesAt(baseUrl: string, options: BrowserVerifyOptions): Promise<VerifyReport> {
  const at = (file: string): string => new URL(file, baseUrl).href;
  const response = await fetch(at('manifest.json'));
  if (!response.ok) throw new Error(`cannot fetch ${at('manifest.json')}: HTTP ${response.status}`);
  const manifest = parseManifest(await response.text(), at('manifest.json'));
  const { tokenizer } = options;
  return runFixtures(
    { where: baseUrl, manifest, open: (file) => urlSource(at(file)), name: at },
    {
      ...options,
      tokenizer: async () => {
        if (!tokenizer) throw new CannotRun('no CLIP tokenizer given');
        return tokenizer;
      },
    },
  );
}
