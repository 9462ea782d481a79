// DPM-Solver++(2M): Lu, Zhou, Bao, Chen, Li & Zhu, "DPM-Solver++: Fast Solver for Guided Sampling of
// Diffusion Probabilistic Models" (arXiv:2211.01095), the data-prediction, multistep, second-order
// solver (their Algorithm 2), in the discrete-time VP form on this package's timestep grid.
//
// Notation (the paper's): α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t), λ_t = log(α_t/σ_t) (half the log-SNR), and
// x_θ(x_t, t) = (x_t − σ_t·ε_θ(x_t, t))/α_t the data prediction made from the noise prediction.
//
// With the data-prediction model the diffusion ODE has the exact solution (paper, Sec. 4.1)
//   x_t = (σ_t/σ_s)·x_s + σ_t·∫_{λ_s}^{λ_t} e^λ·x_θ(x_λ, λ) dλ.
// Taking x_θ constant over the step, h = λ_t − λ_s, gives the first-order update (DPM-Solver++1,
// which is exactly DDIM with η = 0):
//   x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·x_θ(x_s, s).
// The multistep second-order update (Sec. 4.2, Algorithm 2) replaces x_θ by a linear extrapolation
// in λ from this step's and the previous step's predictions, with r = h_prev/h:
//   D = (1 + 1/(2r))·x_θ(x_s, s) − (1/(2r))·x_θ(x_{s'}, s')
//   x_t = (σ_t/σ_s)·x_s − α_t·(e^{−h} − 1)·D.
// This is k-diffusion's sample_dpmpp_2m and diffusers' DPMSolverMultistepScheduler
// (algorithm_type "dpmsolver++", solver_order 2, solver_type "midpoint") written in VP variables.

import { add, mulScalar, type Tensor } from '@unicontrol/core';
import { predictX0 } from './forward.ts';

/** Half the log-SNR, λ = log(α/σ) = ½·log(ᾱ/(1 − ᾱ)). */
export function lambdaOf(alphaCumprod: number): number {
  return 0.5 * (Math.log(alphaCumprod) - Math.log1p(-alphaCumprod));
}

/** The scalar coefficients of one DPM-Solver++ update: x_t = cx·x_s + cd·D, D = d0·x̂₀ + d1·x̂₀_prev. */
export interface DpmCoefficients {
  cx: number;
  cd: number;
  d0: number;
  d1: number;
  /** The step's h = λ_t − λ_s (the next step's r needs it). */
  h: number;
}

/**
 * Coefficients of the update from ᾱ_s to ᾱ_t (ᾱ_t > ᾱ_s: less noise). `hPrev` is the previous step's
 * h for the second-order update, or `undefined` for first order.
 */
export function dpmCoefficients(alphaS: number, alphaT: number, hPrev?: number): DpmCoefficients {
  const h = lambdaOf(alphaT) - lambdaOf(alphaS);
  const cx = Math.sqrt((1 - alphaT) / (1 - alphaS));
  // −α_t·(e^{−h} − 1), with expm1 for accuracy on short steps.
  const cd = -Math.sqrt(alphaT) * Math.expm1(-h);
  if (hPrev === undefined) return { cx, cd, d0: 1, d1: 0, h };
  const r = hPrev / h;
  return { cx, cd, d0: 1 + 1 / (2 * r), d1: -1 / (2 * r), h };
}

/**
 * One DPM-Solver++ update of latents `x` at ᾱ_s with the model's noise prediction `eps`. Returns
 * the new latents and this step's x̂₀ (which the next step's second-order update needs).
 */
export function dpmStep(x: Tensor, eps: Tensor, alphaS: number, c: DpmCoefficients, prevX0?: Tensor): { prev: Tensor; predX0: Tensor } {
  const predX0 = predictX0(x, eps, alphaS);
  const prev = x.device.scope(() => {
    const d = prevX0 && c.d1 !== 0 ? add(mulScalar(predX0, c.d0), mulScalar(prevX0, c.d1)) : predX0;
    return add(mulScalar(x, c.cx), mulScalar(d, c.cd));
  });
  return { prev, predX0 };
}
