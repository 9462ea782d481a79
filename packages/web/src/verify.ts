// `verify` in a browser: the oracle cases of a fixture set read over HTTP (manifest.json,
// golden and weights files by URL, streamed with Range requests), checked by the same case
// runners, comparison and tolerances as `unicontrol verify` in Node.

import { openSafetensors, type Device } from '@unicontrol/core';
import { UniControlModel, type ClipTokenizer, type LoadCheckpointOptions } from '@unicontrol/model';
import { checkTensor, type CheckRow } from '../../unicontrol/src/verify/compare.ts';
import { CannotRun, type CaseContext } from '../../unicontrol/src/verify/context.ts';
import { GoldenSet } from '../../unicontrol/src/verify/golden.ts';
import type { FixtureCase, FixtureManifest } from '../../unicontrol/src/verify/manifest.ts';
import { RUNNERS } from '../../unicontrol/src/verify/runners.ts';
import { toleranceFor, type PrecisionMode } from '../../unicontrol/src/verify/tolerance.ts';
import type { CaseResult, VerifyReport } from '../../unicontrol/src/verify/verify.ts';
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

const refList = (ref: string | string[] | undefined): string[] => (ref === undefined ? [] : Array.isArray(ref) ? ref : [ref]);

/** Runs the cases of the fixture set at `baseUrl` (a folder URL ending in '/'), as `verifyFixtures` does in Node. */
export async function verifyFixturesAt(baseUrl: string, options: BrowserVerifyOptions): Promise<VerifyReport> {
  const { device, dtype = 'f32' } = options;
  const at = (file: string) => new URL(file, baseUrl).href;
  const response = await fetch(at('manifest.json'));
  if (!response.ok) throw new Error(`cannot fetch ${at('manifest.json')}: HTTP ${response.status}`);
  const manifest = (await response.json()) as FixtureManifest;
  if (manifest.format_version !== 1) throw new Error(`fixture manifest has format_version ${String(manifest.format_version)}; this verifier reads version 1`);
  // GoldenSet.open hands its argument to openSafetensors, which takes a ByteSource as well as a path.
  const golden = await GoldenSet.open((await urlSource(at(manifest.golden.file))) as unknown as string);
  const models = new Map<string, Promise<UniControlModel>>();
  const h = manifest.hyperparameters;
  const settings: LoadCheckpointOptions['settings'] = {
    unetHeads: h?.unet?.num_heads,
    clipHeads: h?.clip?.num_attention_heads,
    ...(h?.scale_factor !== undefined ? { scaleFactor: h.scale_factor } : {}),
    ...(h?.clip?.layer_norm_eps !== undefined ? { clipLayerNormEps: h.clip.layer_norm_eps } : {}),
  };
  const loadModel = (file: string): Promise<UniControlModel> => {
    let m = models.get(file);
    if (!m) {
      m = urlSource(at(file)).then((source) => UniControlModel.load(device, source, { dtype, settings }));
      models.set(file, m);
    }
    return m;
  };
  const weightsFile = manifest.weights.file;
  const precision: PrecisionMode = { roundedWeights: await hasHalfWeights(at(weightsFile)), storage: dtype };
  const results: CaseResult[] = [];
  try {
    for (const c of manifest.cases) {
      if (options.cases && !options.cases.includes(c.name)) continue;
      const started = performance.now();
      const ctx: CaseContext = {
        device,
        manifest,
        golden,
        case: c,
        model: () => loadModel(c.weights ?? weightsFile),
        tokenizer: async () => {
          if (!options.tokenizer) throw new CannotRun('no CLIP tokenizer given');
          return options.tokenizer;
        },
        version: c.model === 'v10' ? 'v1.0' : 'v1.1',
        input: (role, o) => {
          const name = c.inputs[role];
          if (typeof name !== 'string') throw new CannotRun(`case ${c.name} has no input ${JSON.stringify(role)}`);
          return golden.tensor(device, name, o);
        },
      };
      // A case naming its own weights file was computed from exactly those weights.
      const result = await runCase(ctx, c, c.weights ? { ...precision, roundedWeights: false } : precision);
      result.seconds = (performance.now() - started) / 1000;
      results.push(result);
      options.onCase?.(result);
    }
  } finally {
    await golden.close();
    for (const m of models.values()) await m.then((model) => model.dispose(), () => undefined);
  }
  const ok = results.every((r) => r.status === 'pass' || r.status === 'not_runnable');
  return { dir: baseUrl, weights: at(weightsFile), dtype, precision, cases: results, ok };
}

async function runCase(ctx: CaseContext, c: FixtureCase, precision: PrecisionMode): Promise<CaseResult> {
  const base = { name: c.name, kind: c.kind, rows: [] as CheckRow[], seconds: 0 };
  if (c.kind === 'not_runnable') return { ...base, status: 'not_runnable', message: c.error ?? c.description };
  const runner = RUNNERS[c.kind];
  if (!runner) return { ...base, status: 'cannot_run', message: `unknown case kind ${JSON.stringify(c.kind)}` };
  try {
    const produced = await ctx.device.scope(() => runner(ctx));
    const expected = Object.values(c.outputs).flatMap(refList);
    const optional = new Set(Object.values(c.intermediates ?? {}).flatMap(refList));
    const rows: CheckRow[] = [];
    for (const name of [...expected, ...optional]) {
      const got = produced.get(name);
      if (!got) {
        if (optional.has(name) && !expected.includes(name)) continue;
        rows.push({ case: c.name, tensor: name, maxError: Infinity, tolerance: 0, pass: false, note: 'not produced' });
        continue;
      }
      const want = await ctx.golden.host(name);
      rows.push(checkTensor(c.name, name, got, want, toleranceFor(c, name, want, precision)));
    }
    return { ...base, rows, status: rows.every((r) => r.pass) ? 'pass' : 'fail' };
  } catch (e) {
    if (e instanceof CannotRun) return { ...base, status: 'cannot_run', message: e.message };
    return { ...base, status: 'fail', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/** Whether the weights at `url` are stored in 16-bit floats (the oracle ran float32 weights). */
async function hasHalfWeights(url: string): Promise<boolean> {
  const reader = await openSafetensors(await urlSource(url));
  try {
    return reader.tensors.some((t) => t.dtype === 'F16' || t.dtype === 'BF16');
  } finally {
    await reader.close();
  }
}
