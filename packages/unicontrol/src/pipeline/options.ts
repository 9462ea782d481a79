// The options of `generate()`, their defaults (the official demo's), and their validation: every
// option is checked before any GPU work, with an error naming it and the value.

import type { RgbaImage } from '../image/index.ts';

export type { RgbaImage };

/** One condition: a ready condition map, or an image for the task's preprocessor. */
export interface ConditionSpec {
  /** Task name, e.g. 'canny' or 'control_canny'. */
  task: string;
  /** The condition map (for hed, sketch, depth, normal, seg, openpose: made by the user). */
  condition?: RgbaImage;
  /** A photo to turn into the condition with the task's built-in preprocessor. */
  image?: RgbaImage;
  /** Options of that preprocessor (e.g. `{ low: 100, high: 200 }` for canny). */
  preprocess?: Record<string, unknown>;
  /** Weight when several conditions are mixed (default 1). */
  weight?: number;
}

/** Called after each sampling step. */
export interface Progress {
  step: number;
  total: number;
  timestep: number;
  elapsedMs: number;
  /** Estimated time left for sampling, from the mean step time so far. */
  etaMs: number;
  /** With `preview`: the step's x̂₀ estimate of the first sample, at 1/8 size (a linear latent→RGB map, no VAE). */
  preview?: RgbaImage;
}

/** What `generate()` takes. Defaults are those of the official UniControl demo. */
export interface GenerateOptions {
  prompt: string;
  /** One condition: its task and its map or photo (or use `conditions`). */
  task?: string;
  condition?: RgbaImage;
  image?: RgbaImage;
  preprocess?: Record<string, unknown>;
  /** Several conditions at once; their task adapters' features are averaged by weight. */
  conditions?: ConditionSpec[];
  /**
   * A task the model was not trained on: its instruction (e.g. 'colourful line art to image'),
   * with `condition` read by the known adapters weighted by `adapterWeights`, or, without them,
   * by the instruction's similarity to the known tasks' instructions.
   */
  instruction?: string;
  adapterWeights?: Record<string, number>;
  addedPrompt?: string;
  negativePrompt?: string;
  steps?: number;
  /**
   * Classifier-free guidance scale (default 9): ε = ε_uncond + guidance·(ε_cond − ε_uncond). At 1
   * that is ε_cond, and each step runs the model once on the conditional batch, as the official
   * sampler does: half the work of a guided step.
   */
  guidance?: number;
  eta?: number;
  /** Control strength: every control residual is multiplied by it (guess mode: by it × 0.825^(12−i)). */
  strength?: number;
  guessMode?: boolean;
  /** Any integer 0 ≤ seed < 2^64 (a bigint beyond 2^53); default random (reported in the result). */
  seed?: number | bigint;
  samples?: number;
  /** Output size in pixels, snapped to multiples of 64; default: the condition scaled so its short side is `resolution`. */
  width?: number;
  height?: number;
  resolution?: number;
  sampler?: 'ddim' | 'ddpm' | 'dpmpp2m';
  onProgress?: (p: Progress) => void;
  /** Attach a preview to the progress of every `preview`-th step (true: every step). Costs a small readback per preview. */
  preview?: boolean | number;
  /**
   * Before sampling, time the candidate kernels of this size's denoising step on the device and
   * use the fastest (`Device.autotune`; once per call shape and device). Default true.
   */
  autotune?: boolean;
  signal?: AbortSignal;
}

/** The options with defaults applied and every value checked. */
export interface ResolvedOptions extends Required<Pick<GenerateOptions, 'prompt' | 'addedPrompt' | 'negativePrompt' | 'steps' | 'guidance' | 'eta' | 'strength' | 'guessMode' | 'samples' | 'resolution' | 'sampler'>> {
  seed: bigint;
  width?: number;
  height?: number;
  /** Attach a preview every this many steps (0: never). */
  previewEvery: number;
  autotune: boolean;
}

export const DEFAULTS = {
  addedPrompt: 'best quality, extremely detailed',
  negativePrompt: 'worst quality, low quality',
  steps: 50,
  guidance: 9,
  eta: 0,
  strength: 1,
  guessMode: false,
  samples: 1,
  resolution: 512,
  sampler: 'ddim',
} as const;

/** Largest output side in pixels; beyond it the activations outgrow any adapter we target. */
export const MAX_SIDE = 2048;
export const MAX_SAMPLES = 16;
const SAMPLERS = ['ddim', 'ddpm', 'dpmpp2m'] as const;

/** An invalid `generate()` option; names the option and the value. */
export class OptionError extends RangeError {
  override name = 'OptionError';
}

function fail(option: string, value: unknown, want: string): never {
  const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value);
  throw new OptionError(`${option} must be ${want}, got ${shown}`);
}

function integer(option: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(option, v, `an integer from ${lo} to ${hi}`);
  return v;
}

function finite(option: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) fail(option, v, `a number from ${lo} to ${hi}`);
  return v;
}

function flag(option: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(option, v, 'true or false');
  return v;
}

function text(option: string, v: unknown): string {
  if (typeof v !== 'string') fail(option, v, 'a string');
  return v;
}

/** A random 64-bit seed from the platform's cryptographic generator. */
function randomSeed(): bigint {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

/** Checks a seed: an integer in [0, 2^64); numbers must be exact (≤ 2^53), larger seeds bigints. */
export function resolveSeed(seed: unknown): bigint {
  if (seed === undefined) return randomSeed();
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) fail('seed', seed, 'an integer from 0 to 2^64 − 1');
    return seed;
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) fail('seed', seed, 'an integer from 0 to 2^64 − 1');
  if (!Number.isSafeInteger(seed)) fail('seed', seed, 'exactly representable (≤ 2^53 − 1); pass larger seeds as a bigint');
  return BigInt(seed);
}

/** `preview`: true (every step), false/absent (never), or a whole number of steps. */
function previewEvery(v: unknown): number {
  if (v === undefined || v === false) return 0;
  if (v === true) return 1;
  return integer('preview', v, 0, 1000);
}

/** The callbacks and the signal, checked so that a wrong type fails now rather than mid-sampling. */
function checkHooks(o: GenerateOptions): void {
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') fail('onProgress', o.onProgress, 'a function');
  const s = o.signal as unknown;
  const isSignal = typeof s === 'object' && s !== null && typeof (s as AbortSignal).throwIfAborted === 'function';
  if (s !== undefined && !isSignal) fail('signal', s, 'an AbortSignal');
}

/**
 * Applies the defaults and validates every scalar option, the callbacks and the signal (conditions
 * are checked by `generate()` before it queues the call).
 */
export function resolveOptions(o: GenerateOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') fail('options', o, 'an object');
  checkHooks(o);
  const sampler = o.sampler ?? DEFAULTS.sampler;
  if (!SAMPLERS.includes(sampler)) fail('sampler', sampler, `one of ${SAMPLERS.join(', ')}`);
  const size = (option: 'width' | 'height', v: unknown): number | undefined => (v === undefined ? undefined : integer(option, v, 64, MAX_SIDE));
  return {
    prompt: text('prompt', o.prompt),
    addedPrompt: text('addedPrompt', o.addedPrompt ?? DEFAULTS.addedPrompt),
    negativePrompt: text('negativePrompt', o.negativePrompt ?? DEFAULTS.negativePrompt),
    steps: integer('steps', o.steps ?? DEFAULTS.steps, 1, 1000),
    guidance: finite('guidance', o.guidance ?? DEFAULTS.guidance, 0, 100),
    eta: finite('eta', o.eta ?? DEFAULTS.eta, 0, 1),
    strength: finite('strength', o.strength ?? DEFAULTS.strength, 0, 10),
    guessMode: flag('guessMode', o.guessMode ?? DEFAULTS.guessMode),
    samples: integer('samples', o.samples ?? DEFAULTS.samples, 1, MAX_SAMPLES),
    resolution: integer('resolution', o.resolution ?? DEFAULTS.resolution, 64, MAX_SIDE),
    sampler,
    seed: resolveSeed(o.seed),
    width: size('width', o.width),
    height: size('height', o.height),
    previewEvery: previewEvery(o.preview),
    autotune: flag('autotune', o.autotune ?? true),
  };
}
