// The sampling loop: model call, solver update, progress, cancellation, memory.

import type { Tensor } from '@unicontrol/core';
import { samplingPlan, type PlanOptions } from './plan.ts';
import { NoiseGenerator, noiseSource, type NoiseSource } from './rng.ts';
import { createSolver, type Solver, type StepResult } from './solvers.ts';

/**
 * The model as the sampler calls it: the (guided) noise prediction ε for latents `x`
 * `[batch, 4, h/8, w/8]` at model timestep `timestep`, on step `step` (0-based). It records GPU
 * work and returns a tensor of x's shape; tensors it makes are freed after the step.
 */
export type Denoiser = (x: Tensor, timestep: number, step: number) => Tensor;

/** What the sampler reports after each step. */
export interface StepInfo {
  /** 0-based step index and the number of steps the run takes. */
  step: number;
  total: number;
  /** The model timestep of this step. */
  timestep: number;
  /** Latents after the step and the step's x̂₀ estimate, for previews (valid during the callback only). */
  x: Tensor;
  predX0: Tensor;
}

/** Options of `sample()`. */
export interface SampleOptions extends PlanOptions {
  /** Standard normal noise for stochastic steps ('ddpm', 'ddim' with eta > 0): a generator or a source. */
  noise?: NoiseGenerator | NoiseSource;
  /**
   * Called after each step's work is recorded; the sampler awaits a returned promise before freeing
   * the step's tensors. Tensors made inside are freed when it settles unless kept.
   */
  onStep?: (info: StepInfo) => void | Promise<void>;
  /** Checked before every step and before resolving; when aborted the run rejects with its reason. */
  signal?: AbortSignal;
}

/** Options of `sampleDdim`. */
export interface DdimOptions extends Pick<PlanOptions, 'steps' | 'eta' | 'strength' | 'startStep'> {
  /** ᾱ over the training timesteps (the checkpoint's `alphas_cumprod`). */
  alphasCumprod: ArrayLike<number>;
  /** Standard normal noise of the given shape, needed when eta > 0. */
  noise?: NoiseSource;
  onStep?: (info: StepInfo) => void;
  signal?: AbortSignal;
}

/**
 * Samples from `xT` (noise at the plan's first timestep, e.g. `noiseTensor` for text-to-image):
 * for each step, ε = denoise(x, t), then the sampler's update. Between steps it waits for the GPU
 * (`device.sync()`, no readback) so that progress is real and an abort takes effect within one
 * step. Every intermediate is freed, on success, error or abort; `xT` stays the caller's.
 * Resolves to the final latents (the caller owns them). Options are checked before any GPU work.
 */
export async function sample(denoise: Denoiser, xT: Tensor, options: SampleOptions): Promise<Tensor> {
  const plan = samplingPlan(options);
  const noise = options.noise instanceof NoiseGenerator ? noiseSource(xT.device, options.noise) : options.noise;
  if (plan.stochastic && !noise) throw new TypeError(`sample: sampler '${plan.sampler}' adds noise every step; pass options.noise (a NoiseGenerator or a source)`);
  const device = xT.device;
  const solver = createSolver(plan);
  const total = plan.schedule.timesteps.length;
  let x = xT;
  try {
    for (let i = 0; i < total; i++) {
      options.signal?.throwIfAborted();
      const { prev, predX0 } = takeStep(solver, denoise, x, i, noise);
      if (x !== xT) x.dispose();
      x = prev;
      try {
        const onStep = options.onStep;
        if (onStep) await device.scope(() => onStep({ step: i, total, timestep: plan.schedule.timesteps[i], x: prev, predX0 }));
      } finally {
        predX0.dispose();
      }
      await device.sync();
    }
    options.signal?.throwIfAborted();
  } catch (e) {
    if (x !== xT) x.dispose();
    throw e;
  } finally {
    solver.dispose();
  }
  return x;
}

/**
 * DDIM as the official sampler runs it, synchronously: records every step without waiting and
 * returns the final latents. Same steps and numbers as `sample(…, { sampler: 'ddim' })`.
 */
export function sampleDdim(denoise: Denoiser, xT: Tensor, options: DdimOptions): Tensor {
  const plan = samplingPlan({ ...options, sampler: 'ddim' });
  const solver = createSolver(plan);
  const total = plan.schedule.timesteps.length;
  let x = xT;
  try {
    for (let i = 0; i < total; i++) {
      options.signal?.throwIfAborted();
      const current = x;
      x = xT.device.scope(() => {
        const { prev, predX0 } = takeStep(solver, denoise, current, i, options.noise);
        options.onStep?.({ step: i, total, timestep: plan.schedule.timesteps[i], x: prev, predX0 });
        return prev;
      });
      if (current !== xT) current.dispose();
    }
  } catch (e) {
    if (x !== xT) x.dispose();
    throw e;
  } finally {
    solver.dispose();
  }
  return x;
}

/** One step: the model call, the noise draw when the step needs it, the update; frees the rest. */
function takeStep(solver: Solver, denoise: Denoiser, x: Tensor, i: number, noise: NoiseSource | undefined): StepResult {
  return x.device.scope(() => {
    const eps = denoise(x, solver.schedule.timesteps[i], i);
    if (!solver.needsNoise(i)) return solver.step(x, eps, i);
    if (!noise) throw new TypeError(`step ${i} adds noise (σ = ${solver.schedule.sigmas[i]}) and needs a noise source`);
    const z = noise(x.shape);
    const out = solver.step(x, eps, i, z);
    z.dispose();
    return out;
  });
}
