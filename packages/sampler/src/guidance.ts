import { add, mulScalar, sliceAxis, sub, type Tensor } from '@unicontrol/core';

/**
 * Classifier-free guidance on one batched model output `[2·batch, …]` whose first half is the
 * unconditional prediction and second half the conditional one (the official batch order):
 * ε = ε_u + scale·(ε_c − ε_u). Returns the halves too.
 */
export function classifierFreeGuidance(batched: Tensor, scale: number): { eps: Tensor; uncond: Tensor; cond: Tensor } {
  const n = batched.shape[0];
  if (n % 2 !== 0) throw new RangeError(`classifierFreeGuidance: batch ${n} of [${batched.shape.join(', ')}] is not [uncond; cond] halves`);
  const uncond = sliceAxis(batched, 0, 0, n / 2);
  const cond = sliceAxis(batched, 0, n / 2, n);
  return { eps: add(uncond, mulScalar(sub(cond, uncond), scale)), uncond, cond };
}
