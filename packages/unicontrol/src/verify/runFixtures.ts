// Running an oracle fixture set's cases, wherever its files come from (a directory in Node, URLs
// in a browser): one model per weights file, each case's outputs checked against the golden
// tensors under the manifest's tolerances.

import { openSafetensors, type ByteSource, type Device } from '@unicontrol/core';
import { UniControlModel, type ClipTokenizer, type LoadCheckpointOptions } from '@unicontrol/model';
import { checkTensor, type CheckRow } from './compare.ts';
import { CannotRun, type CaseContext } from './context.ts';
import { GoldenSet } from './golden.ts';
import { refList, type FixtureCase, type FixtureManifest } from './manifest.ts';
import { RUNNERS } from './runners.ts';
import { toleranceFor, type PrecisionMode } from './tolerance.ts';

/** Where a fixture set's files are. */
export interface FixtureSource {
  /** The set's location (directory or URL), for the report and messages. */
  where: string;
  manifest: FixtureManifest;
  /** Opens a file of the set (golden tensors, weights) for `openSafetensors`. */
  open(file: string): Promise<string | Blob | ByteSource>;
  /** How the report names a file of the set. */
  name(file: string): string;
}

/** Options of `runFixtures`. */
export interface RunOptions {
  device: Device;
  /** Weights file of the set (or a path) to use instead of the manifest's `weights.file`. */
  weights?: string;
  /** GPU storage of weights and activations (default 'f32'). */
  dtype?: 'f32' | 'f16';
  /** The CLIP tokenizer; throw `CannotRun` when there is none. */
  tokenizer: () => Promise<ClipTokenizer>;
  /** Only the cases with these names. */
  cases?: readonly string[];
  /** Called as each case finishes. */
  onCase?: (result: CaseResult) => void;
}

/** The outcome of one case. */
export interface CaseResult {
  name: string;
  kind: string;
  /** `not_runnable`: the manifest documents a path the official code cannot take. */
  status: 'pass' | 'fail' | 'not_runnable' | 'cannot_run';
  rows: CheckRow[];
  message?: string;
  seconds: number;
}

/** All cases' outcomes; `ok` is false on any failure or any case that could not run. */
export interface VerifyReport {
  dir: string;
  weights: string;
  dtype: 'f32' | 'f16';
  precision: PrecisionMode;
  cases: CaseResult[];
  ok: boolean;
}

/** Runs the cases of a fixture set. */
export async function runFixtures(source: FixtureSource, options: RunOptions): Promise<VerifyReport> {
  const { device, dtype = 'f32' } = options;
  const { manifest } = source;
  if (options.cases) {
    const unknown = options.cases.filter((n) => !manifest.cases.some((c) => c.name === n));
    if (unknown.length > 0) throw new Error(`no case named ${unknown.join(', ')} in ${source.where}`);
  }
  const golden = await GoldenSet.open(await source.open(manifest.golden.file));
  const weightsFile = options.weights ?? manifest.weights.file;
  const models = new Map<string, Promise<UniControlModel>>();
  const loadModel = (file: string): Promise<UniControlModel> => {
    let m = models.get(file);
    if (!m) {
      m = source.open(file).then((s) => UniControlModel.load(device, s, { dtype, settings: settingsOf(manifest) }));
      models.set(file, m);
    }
    return m;
  };
  const precision: PrecisionMode = { roundedWeights: await hasHalfWeights(await source.open(weightsFile)), storage: dtype };
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
        tokenizer: options.tokenizer,
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
  return { dir: source.where, weights: source.name(weightsFile), dtype, precision, cases: results, ok };
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

/** The model settings a fixture set states (its heads may differ from the real model's). */
function settingsOf(m: FixtureManifest): LoadCheckpointOptions['settings'] {
  const h = m.hyperparameters;
  return {
    unetHeads: h?.unet?.num_heads,
    clipHeads: h?.clip?.num_attention_heads,
    ...(h?.scale_factor !== undefined ? { scaleFactor: h.scale_factor } : {}),
    ...(h?.clip?.layer_norm_eps !== undefined ? { clipLayerNormEps: h.clip.layer_norm_eps } : {}),
  };
}

/**
 * Whether a weights file stores its parameters in 16-bit floats: the oracle's outputs come from
 * float32 weights, so such a file deviates from them by its rounding.
 */
async function hasHalfWeights(source: string | Blob | ByteSource): Promise<boolean> {
  const reader = await openSafetensors(source);
  try {
    return reader.tensors.some((t) => t.dtype === 'F16' || t.dtype === 'BF16');
  } finally {
    await reader.close();
  }
}
