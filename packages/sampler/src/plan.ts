// Which steps a sampling run takes: options checked up front, the timestep grid, img2img's start.

import { ddimSchedule, type DdimSchedule } from './ddim.ts';
import { alphasCumprod as cumprod, linearBetas } from './schedule.ts';

/** The samplers of `sample()`. */
export const SAMPLERS = ['ddim', 'ddpm', 'dpmpp2m'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** The options that fix a run's steps. */
export interface PlanOptions {
  /**
   * 'ddim' (default; deterministic for eta = 0), 'ddpm' (ancestral: DDIM with η = 1) or 'dpmpp2m'
   * (DPM-Solver++(2M), deterministic). All use the same timestep grid.
   */
  sampler?: SamplerName;
  /**
   * Grid size S, an integer 1–T: timesteps arange(0, T, T // S) + 1, descending (T = 1000). Like the
   * official sampler this keeps every point, so S that does not divide T can give more than S
   * steps (S = 3: 1000, 667, 334, 1).
   */
  steps: number;
  /** DDIM's η ≥ 0 (default 0); ignored by 'ddpm' (always 1) and 'dpmpp2m' (always 0). */
  eta?: number;
  /** ᾱ over the T training timesteps (the checkpoint's `alphas_cumprod`); default Stable Diffusion's. */
  alphasCumprod?: ArrayLike<number>;
  /**
   * img2img: the fraction of the grid to run, in (0, 1]; the run skips the first (1 − strength) of
   * it and takes the last max(1, ⌊strength·N⌋) of its N steps. The caller noises its x₀ to
   * `plan.schedule.alphas[0]` (see `noiseToTimestep`).
   */
  strength?: number;
  /** Alternatively, the grid index (0-based) of the first step to take. */
  startStep?: number;
}

/** The steps a run takes. */
export interface SamplingPlan {
  sampler: SamplerName;
  /** Per step taken: model timestep (descending), ᾱ there, ᾱ it steps to, and its σ. */
  schedule: DdimSchedule;
  /** Grid index of the first step taken (0 without strength/startStep). */
  startStep: number;
  /** Whether steps add fresh noise (and `sample()` needs a noise source). */
  stochastic: boolean;
}

let defaultAlphas: Float64Array | undefined;

/** Stable Diffusion's ᾱ (betas linear in √β from 0.00085 to 0.012 over 1000 steps). */
export function defaultAlphasCumprod(): Float64Array {
  defaultAlphas ??= cumprod(linearBetas());
  return defaultAlphas;
}

/** Checks the options (RangeErrors name the option and value) and lists the steps to take. */
export function samplingPlan(options: PlanOptions): SamplingPlan {
  const sampler = options.sampler ?? 'ddim';
  if (!SAMPLERS.includes(sampler)) throw new RangeError(`sampler must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(sampler)}`);
  const alphas = options.alphasCumprod ?? defaultAlphasCumprod();
  checkAlphas(alphas);
  const T = alphas.length;
  const { steps } = options;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new RangeError(`steps must be an integer from 1 to ${T}, got ${String(steps)}`);
  }
  const eta = sampler === 'ddpm' ? 1 : sampler === 'dpmpp2m' ? 0 : checkEta(options.eta ?? 0);
  const full = ddimSchedule(alphas, steps, eta);
  checkDirection(full, eta);
  const startStep = firstStep(options, full.timesteps.length);
  const slice = <T>(a: T[]): T[] => a.slice(startStep);
  const schedule: DdimSchedule = {
    timesteps: slice(full.timesteps),
    alphas: slice(full.alphas),
    alphasPrev: slice(full.alphasPrev),
    sigmas: slice(full.sigmas),
  };
  return { sampler, schedule, startStep, stochastic: schedule.sigmas.some((s) => s > 0) };
}

function checkAlphas(alphas: ArrayLike<number>): void {
  if (alphas === null || typeof alphas !== 'object' || typeof alphas.length !== 'number' || alphas.length < 1) {
    throw new RangeError(`alphasCumprod must be a non-empty array of ᾱ values, got ${String(alphas)}`);
  }
  for (let t = 0; t < alphas.length; t++) {
    // ᾱ = 1 would make σ = 0 and λ infinite; ᾱ = 0 would make x̂₀ undefined.
    if (!(alphas[t] > 0 && alphas[t] < 1)) throw new RangeError(`alphasCumprod[${t}] must be in (0, 1), got ${alphas[t]}`);
  }
}

function checkEta(eta: unknown): number {
  if (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0) throw new RangeError(`eta must be a finite number ≥ 0, got ${String(eta)}`);
  return eta;
}

/** DDIM's direction term needs σ² ≤ 1 − ᾱ_prev; a larger η would give NaN latents. */
function checkDirection(s: DdimSchedule, eta: number): void {
  s.sigmas.forEach((sigma, i) => {
    if (sigma * sigma > 1 - s.alphasPrev[i]) {
      throw new RangeError(`eta ${eta} is too large for this grid: at timestep ${s.timesteps[i]}, σ² = ${sigma * sigma} exceeds 1 − ᾱ_prev = ${1 - s.alphasPrev[i]}`);
    }
  });
}

function firstStep(options: PlanOptions, n: number): number {
  const { strength, startStep } = options;
  if (strength !== undefined && startStep !== undefined) throw new RangeError(`give strength or startStep, not both (got ${strength} and ${startStep})`);
  if (startStep !== undefined) {
    if (typeof startStep !== 'number' || !Number.isInteger(startStep) || startStep < 0 || startStep >= n) {
      throw new RangeError(`startStep must be an integer from 0 to ${n - 1}, got ${String(startStep)}`);
    }
    return startStep;
  }
  if (strength === undefined) return 0;
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) throw new RangeError(`strength must be in (0, 1], got ${String(strength)}`);
  // diffusers' int(N·strength), at least one step; the epsilon keeps e.g. 0.29·100 from flooring to 28.
  const run = Math.max(1, Math.floor(strength * n + 1e-9));
  return n - run;
}
