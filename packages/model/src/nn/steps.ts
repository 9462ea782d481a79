import type { Tensor } from '@unicontrol/core';
import type { Parts } from '../vae/channelParts.ts';

/** One layer of a sequential network: a `[batch, C, H, W]` activation (as channel blocks) in, a new one out. */
export type Step = (x: Parts) => Parts;

/**
 * Runs `steps` in order on `x`, each in its own scope, freeing every intermediate result as soon
 * as the next one exists. At 512 px the VAE's activations are 32–256 MB each and the UNet's
 * transformer temporaries up to 84 MB; keeping them all until the caller's scope closes would
 * hold gigabytes, this holds about one step's worth. `x` itself is never freed (it belongs to
 * the caller).
 */
export function runSteps(x: Tensor, steps: readonly Step[]): Parts {
  let h: Parts = [x];
  for (const step of steps) {
    const next = x.device.scope(() => step(h));
    for (const t of h) if (t !== x && !next.includes(t)) t.dispose();
    h = next;
  }
  return h;
}

/** `runSteps` for layers that take and return one tensor. */
export function sequence(x: Tensor, layers: readonly ((h: Tensor) => Tensor)[]): Tensor {
  return runSteps(
    x,
    layers.map((layer) => (h) => [layer(h[0])]),
  )[0];
}
