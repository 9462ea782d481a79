// DDIM (Song et al. 2021) as the official UniControl/ControlNet sampler runs it
// (cldm/ddim_unicontrol_hacked.py, "uniform" discretisation).

import { add, mulScalar, type Tensor } from '@unicontrol/core';
import { predictX0 } from './forward.ts';

/** The per-step coefficients of a DDIM run, in the order the steps are taken. */
export interface DdimSchedule {
  /** Model timesteps, descending (e.g. 751, 501, 251, 1 for 4 steps). */
  timesteps: number[];
  /** ᾱ at each step's timestep. */
  alphas: number[];
  /** ᾱ of the step after (the previous timestep in time); ᾱ_0 for the last step, as the original. */
  alphasPrev: number[];
  /** σ of each step: η·√((1 − ᾱ_prev)/(1 − ᾱ)·(1 − ᾱ/ᾱ_prev)). */
  sigmas: number[];
}

/**
 * The uniform DDIM schedule of `steps` steps over `alphasCumprod.length` training timesteps:
 * timesteps `arange(0, T, T // steps) + 1`, taken in descending order.
 */
export function ddimSchedule(alphasCumprod: ArrayLike<number>, steps: number, eta = 0): DdimSchedule {
  const T = alphasCumprod.length;
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new RangeError(`ddimSchedule: steps must be an integer in 1–${T}, got ${steps}`);
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new RangeError(`ddimSchedule: eta must be a finite number ≥ 0, got ${eta}`);
  const c = Math.floor(T / steps);
  const ascending: number[] = [];
  for (let t = 0; t < T; t += c) ascending.push(t + 1);
  // T // steps can leave more than `steps` points (e.g. 1000 / 3); the original keeps them all.
  const alphas = ascending.map((t) => alphasCumprod[Math.min(t, T - 1)]);
  const prev = ascending.map((_, i) => (i === 0 ? alphasCumprod[0] : alphas[i - 1]));
  const sigmas = alphas.map((a, i) => eta * Math.sqrt(((1 - prev[i]) / (1 - a)) * (1 - a / prev[i])));
  const order = ascending.map((_, i) => ascending.length - 1 - i);
  return {
    timesteps: order.map((i) => ascending[i]),
    alphas: order.map((i) => alphas[i]),
    alphasPrev: order.map((i) => prev[i]),
    sigmas: order.map((i) => sigmas[i]),
  };
}

/**
 * One DDIM update from `x` with predicted noise `eps`:
 * x̂₀ = (x − √(1−ᾱ)·ε)/√ᾱ, x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε + σ·noise.
 * `noise` (standard normal, x's shape) is needed only when σ > 0.
 */
export function ddimStep(x: Tensor, eps: Tensor, schedule: DdimSchedule, i: number, noise?: Tensor): { prev: Tensor; predX0: Tensor } {
  const a = schedule.alphas[i];
  const aPrev = schedule.alphasPrev[i];
  const sigma = schedule.sigmas[i];
  const predX0 = predictX0(x, eps, a);
  let prev = add(mulScalar(predX0, Math.sqrt(aPrev)), mulScalar(eps, Math.sqrt(Math.max(0, 1 - aPrev - sigma * sigma))));
  if (sigma > 0) {
    if (!noise) throw new Error(`ddimStep: step ${i} has σ = ${sigma} > 0 (eta > 0) and needs noise`);
    prev = add(prev, mulScalar(noise, sigma));
  }
  return { prev, predX0 };
}
