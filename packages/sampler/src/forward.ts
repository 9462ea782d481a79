// The forward (noising) process q(x_t | x₀) = N(√ᾱ_t·x₀, (1 − ᾱ_t)·I) and its inversion given ε.

import { add, mulScalar, sub, type Tensor } from '@unicontrol/core';

/**
 * x_t = √ᾱ·x₀ + √(1−ᾱ)·ε: clean latents `x0` noised to the level ᾱ (img2img noises the encoded image
 * to the first timestep it samples from). `noise` is standard normal, of x0's shape.
 */
export function noiseToTimestep(x0: Tensor, noise: Tensor, alphaCumprod: number): Tensor {
  checkAlpha('noiseToTimestep', alphaCumprod);
  return x0.device.scope(() => add(mulScalar(x0, Math.sqrt(alphaCumprod)), mulScalar(noise, Math.sqrt(1 - alphaCumprod))));
}

/** x̂₀ = (x_t − √(1−ᾱ)·ε)/√ᾱ: the clean latents that the predicted noise ε implies. */
export function predictX0(x: Tensor, eps: Tensor, alphaCumprod: number): Tensor {
  checkAlpha('predictX0', alphaCumprod);
  return x.device.scope(() => mulScalar(sub(x, mulScalar(eps, Math.sqrt(1 - alphaCumprod))), 1 / Math.sqrt(alphaCumprod)));
}

function checkAlpha(op: string, a: number): void {
  if (!(a > 0 && a <= 1)) throw new RangeError(`${op}: alphaCumprod must be in (0, 1], got ${a}`);
}
