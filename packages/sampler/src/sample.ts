import type { Tensor } from '@unicontrol/core';
import { ddimSchedule, ddimStep } from './ddim.ts';

/** What the sampler reports after each step. */
export interface StepInfo {
  /** 0-based step index and the number of steps. */
  step: number;
  total: number;
  /** The model timestep of this step. */
  timestep: number;
  /** Latents after the step and the step's x̂₀ estimate (valid during the callback only). */
  x: Tensor;
  predX0: Tensor;
}

/** Options of `sampleDdim`. */
export interface DdimOptions {
  steps: number;
  /** ᾱ over the training timesteps (the checkpoint's `alphas_cumprod`). */
  alphasCumprod: ArrayLike<number>;
  /** 0 (default) is deterministic DDIM; 1 matches DDPM's variance. */
  eta?: number;
  /** Standard normal noise of the given shape, needed when eta > 0. */
  noise?: (shape: readonly number[]) => Tensor;
  onStep?: (info: StepInfo) => void;
  /** Checked before every step; an aborted signal rejects with its reason. */
  signal?: AbortSignal;
}

/**
 * DDIM sampling from `xT`: `denoise(x, t, step)` returns the (guided) noise prediction for latents x
 * at model timestep t. Intermediates of each step are freed; the result is the final latent.
 */
export function sampleDdim(denoise: (x: Tensor, timestep: number, step: number) => Tensor, xT: Tensor, options: DdimOptions): Tensor {
  const schedule = ddimSchedule(options.alphasCumprod, options.steps, options.eta ?? 0);
  const device = xT.device;
  const total = schedule.timesteps.length;
  let x = xT;
  for (let i = 0; i < total; i++) {
    options.signal?.throwIfAborted();
    const current = x;
    x = device.scope(() => {
      const eps = denoise(current, schedule.timesteps[i], i);
      const noise = schedule.sigmas[i] > 0 ? options.noise?.(current.shape) : undefined;
      const { prev, predX0 } = ddimStep(current, eps, schedule, i, noise);
      options.onStep?.({ step: i, total, timestep: schedule.timesteps[i], x: prev, predX0 });
      return prev;
    });
    if (current !== xT) current.dispose();
  }
  return x;
}
