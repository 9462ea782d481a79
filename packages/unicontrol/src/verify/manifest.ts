// The oracle fixture format (`manifest.json` of ../shared/fixtures/*): which cases exist, which
// golden tensors they read and produce, and their tolerances.

/** A golden tensor name, or a list of them (per step, per residual). */
export type TensorRef = string | string[];

/** Per-tensor statistics the oracle recorded; `atol` is the tolerance of that tensor. */
export interface TensorStats {
  shape: number[];
  max_abs?: number;
  atol: number;
}

/** One case of the manifest (fields as the oracle writes them). */
export interface FixtureCase {
  name: string;
  kind: string;
  description?: string;
  /** 'v11' or 'v10': which ControlNet code produced the case. */
  model?: string;
  /** A weights file other than the manifest's default. */
  weights?: string;
  inputs: Record<string, TensorRef>;
  outputs: Record<string, TensorRef>;
  intermediates?: Record<string, TensorRef>;
  params?: Record<string, unknown>;
  args?: Record<string, unknown>;
  stats?: Record<string, TensorStats>;
  tolerance?: { atol: number; rule?: string };
  exact?: boolean;
  error?: string;
}

/** The fields of `manifest.json` that the verifier reads. */
export interface FixtureManifest {
  format_version: number;
  set: string;
  weights: { file: string; f16_file?: string };
  golden: { file: string };
  hyperparameters: {
    unet: { num_heads: number };
    clip: { num_attention_heads: number; layer_norm_eps?: number };
    scale_factor?: number;
  };
  cases: FixtureCase[];
  [key: string]: unknown;
}

/** Parses and sanity-checks the text of a `manifest.json` (`where` names it in errors). */
export function parseManifest(text: string, where: string): FixtureManifest {
  let m: FixtureManifest;
  try {
    m = JSON.parse(text) as FixtureManifest;
  } catch (e) {
    throw new Error(`fixture manifest ${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object') throw new Error(`fixture manifest ${where} is not a JSON object`);
  if (m.format_version !== 1) throw new Error(`fixture manifest ${where} has format_version ${String(m.format_version)}; this verifier reads version 1`);
  if (!Array.isArray(m.cases) || typeof m.weights?.file !== 'string' || typeof m.golden?.file !== 'string') {
    throw new Error(`fixture manifest ${where} lacks cases, weights.file or golden.file`);
  }
  return m;
}

/** Resolves an argument written as "manifest:<key>" to that top-level manifest value. */
export function manifestArg<T>(manifest: FixtureManifest, value: unknown): T {
  if (typeof value === 'string' && value.startsWith('manifest:')) {
    const key = value.slice('manifest:'.length);
    if (!(key in manifest)) throw new Error(`the fixture manifest has no ${JSON.stringify(key)} (referenced as ${value})`);
    return manifest[key] as T;
  }
  return value as T;
}

/** The list form of a tensor reference. */
export function refList(ref: TensorRef | undefined): string[] {
  return ref === undefined ? [] : Array.isArray(ref) ? ref : [ref];
}
