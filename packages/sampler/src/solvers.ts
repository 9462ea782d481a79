// The per-step update rules behind `sample()`, one interface for every sampler.

import type { Tensor } from '@unicontrol/core';
import { ddimStep, type DdimSchedule } from './ddim.ts';
import { dpmCoefficients, dpmStep } from './dpmSolver.ts';
import type { SamplingPlan } from './plan.ts';

/** What one step produces: the latents after it and its x̂₀ estimate. */
export interface StepResult {
  prev: Tensor;
  predX0: Tensor;
}

/** A sampler's update rule over a plan's steps; may hold tensors between steps (multistep history). */
export interface Solver {
  readonly schedule: DdimSchedule;
  /** Whether step `i` adds noise (then `step` needs a standard normal tensor of x's shape). */
  needsNoise(i: number): boolean;
  /** Step `i` from latents `x` with the model's noise prediction `eps` (records GPU work only). */
  step(x: Tensor, eps: Tensor, i: number, noise?: Tensor): StepResult;
  /** Frees what the solver holds between steps. */
  dispose(): void;
}

/** Below this many steps the last DPM-Solver++ step is first order, as diffusers' `lower_order_final`. */
export const LOWER_ORDER_FINAL_BELOW = 15;

/**
 * The solver of a plan. 'ddim' and 'ddpm' both use the DDIM update (Song et al. 2021, Eq. 12)
 * x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε + σ·z; 'ddpm' is η = 1, where
 * σ² = (1−ᾱ_prev)/(1−ᾱ)·(1−ᾱ/ᾱ_prev) is the DDPM posterior variance over the grid's (possibly
 * skipped) steps and the update equals the posterior-mean form μ̃(x_t, x̂₀) + σ·z algebraically.
 * The DDIM form is used so that all three samplers share one grid, one x̂₀ and one code path.
 */
export function createSolver(plan: SamplingPlan): Solver {
  return plan.sampler === 'dpmpp2m' ? new DpmSolver2M(plan.schedule) : new DdimSolver(plan.schedule);
}

class DdimSolver implements Solver {
  constructor(readonly schedule: DdimSchedule) {}

  needsNoise(i: number): boolean {
    return this.schedule.sigmas[i] > 0;
  }

  step(x: Tensor, eps: Tensor, i: number, noise?: Tensor): StepResult {
    return ddimStep(x, eps, this.schedule, i, noise);
  }

  dispose(): void {}
}

/**
 * DPM-Solver++(2M) over the grid: each step goes from ᾱ_i to ᾱ_prev,i, the first step first order
 * (no history), later steps second order; the last step is first order when the run has fewer than
 * 15 steps (diffusers' `lower_order_final`, which steadies few-step runs). The last target is the
 * grid's ᾱ_prev (ᾱ₀ = alphas_cumprod[0]), the same level DDIM ends at: no final jump to σ = 0.
 */
class DpmSolver2M implements Solver {
  private history: { x0: Tensor; h: number } | null = null;

  constructor(readonly schedule: DdimSchedule) {}

  needsNoise(): boolean {
    return false;
  }

  step(x: Tensor, eps: Tensor, i: number): StepResult {
    const s = this.schedule;
    const last = i === s.timesteps.length - 1;
    const firstOrder = this.history === null || (last && s.timesteps.length < LOWER_ORDER_FINAL_BELOW);
    const c = dpmCoefficients(s.alphas[i], s.alphasPrev[i], firstOrder ? undefined : this.history!.h);
    const out = dpmStep(x, eps, s.alphas[i], c, this.history?.x0);
    this.history?.x0.dispose();
    // A second view of x̂₀ keeps its buffer alive after the caller disposes predX0.
    this.history = { x0: out.predX0.reshape(out.predX0.shape).keep(), h: c.h };
    return out;
  }

  dispose(): void {
    this.history?.x0.dispose();
    this.history = null;
  }
}
