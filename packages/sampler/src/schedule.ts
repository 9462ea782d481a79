// Stable Diffusion's DDPM noise schedule ("linear" in the LDM code: linear in sqrt(beta)).

/** The schedule's settings (Stable Diffusion 1.5's are the defaults). */
export interface ScheduleOptions {
  /** Training timesteps (1000). */
  timesteps?: number;
  /** β at t = 0 (0.00085) and at the last timestep (0.012). */
  linearStart?: number;
  linearEnd?: number;
}

/** β_t = (√start + (√end − √start)·t/(T−1))², in float64 like the original's NumPy. */
export function linearBetas({ timesteps = 1000, linearStart = 0.00085, linearEnd = 0.012 }: ScheduleOptions = {}): Float64Array {
  const a = Math.sqrt(linearStart);
  const b = Math.sqrt(linearEnd);
  return Float64Array.from({ length: timesteps }, (_, t) => (a + ((b - a) * t) / Math.max(1, timesteps - 1)) ** 2);
}

/** ᾱ_t = Π_{s ≤ t} (1 − β_s). */
export function alphasCumprod(betas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let t = 0; t < betas.length; t++) out[t] = p *= 1 - betas[t];
  return out;
}
