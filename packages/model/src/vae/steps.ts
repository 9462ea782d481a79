import type { Tensor } from '@unicontrol/core';

/** One layer of a sequential network: `[batch, C, H, W]` in, a new tensor out. */
export type Step = (x: Tensor) => Tensor;

/**
 * Runs `steps` in order on `x`, each in its own scope, freeing every intermediate result as soon
 * as the next one exists. At 512 px the VAE's activations are 32–256 MB each; keeping them all
 * until the caller's scope closes would hold gigabytes, this holds about one step's worth.
 * `x` itself is never freed (it belongs to the caller).
 */
export function runSteps(x: Tensor, steps: readonly Step[]): Tensor {
  let h = x;
  for (const step of steps) {
    const next = x.device.scope(() => step(h));
    if (h !== x && h !== next) h.dispose();
    h = next;
  }
  return h;
}
