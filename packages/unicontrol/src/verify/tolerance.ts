// How close a produced tensor must be to the oracle's.

import type { HostTensor } from './golden.ts';
import type { FixtureCase } from './manifest.ts';

/** How the run's arithmetic differs from the oracle's float32 run. */
export interface PrecisionMode {
  /** The weights were rounded to float16 (a 16-bit file) while the golden used float32 weights. */
  roundedWeights: boolean;
  /** Storage of weights and activations on the GPU. */
  storage: 'f32' | 'f16';
}

/**
 * The tolerance of golden tensor `name`: token ids and timesteps exact; uint8 images ±1; float
 * tensors the manifest's per-tensor `atol` (the case's when absent), widened when the run is less
 * precise than the oracle (see `widening`).
 */
export function toleranceFor(c: FixtureCase, name: string, want: HostTensor, precision: PrecisionMode): number {
  if (want.data instanceof Int32Array) return 0;
  const stats = c.stats?.[name];
  // uint8 images: ±1 for the truncating conversion, plus the same relative widening on 0–255.
  if (want.data instanceof Uint8Array) return 1 + widening(precision) * maxAbs(want, stats?.max_abs);
  const atol = stats?.atol ?? c.tolerance?.atol ?? 0;
  return atol + widening(precision) * maxAbs(want, stats?.max_abs);
}

/** Extra error allowed per unit of the tensor's scale (max |value|). */
export function widening(p: PrecisionMode): number {
  return (p.roundedWeights ? ROUNDED_WEIGHTS : 0) + (p.storage === 'f16' ? F16_STORAGE : 0);
}

/** float16's unit roundoff. */
const U16 = 2 ** -11;
/**
 * Rounding the weights to float16 perturbs every output by a few units of float16 roundoff of
 * its scale: the oracle itself shows 3.1·u between `am_v11_canny_f16w` (f16 weights) and
 * `unet.canny.eps` (same inputs, f32 weights); on the tiny set we measured at most 2.8·u on
 * single evaluations and 5.0·u on images after 4 guided DDIM steps (guidance 9 amplifies the
 * ε difference). 8·u keeps a margin of 1.6× over the worst case while still failing any real
 * defect (those show up at ≥ 1e-2 of scale).
 */
const ROUNDED_WEIGHTS = 8 * U16;
/**
 * float16 storage rounds every activation, not only the weights: measured at most 3.1·u on
 * single evaluations and 18.6·u on the guided DDIM trajectories and their images (errors grow
 * with each step and with the guidance scale). 32·u leaves a 1.7× margin.
 */
const F16_STORAGE = 32 * U16;

function maxAbs(t: HostTensor, recorded?: number): number {
  if (recorded !== undefined) return recorded;
  let m = 0;
  for (const v of t.data) m = Math.max(m, Math.abs(v));
  return m;
}
