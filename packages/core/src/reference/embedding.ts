import type { HostTensor } from './host.ts';

/**
 * Stable Diffusion's sinusoidal timestep embedding in float64: for half = ⌊dim/2⌋,
 * freq_i = exp(−ln(maxPeriod)·i/half); row = [cos(t·freq_0..), sin(t·freq_0..)] and a zero
 * last column when dim is odd.
 */
export function timestepEmbeddingCpu(t: ArrayLike<number>, dim: number, maxPeriod = 10000): HostTensor {
  const half = Math.floor(dim / 2);
  const out = new Float64Array(t.length * dim);
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const arg = t[b] * Math.exp((-Math.log(maxPeriod) * i) / half);
      out[b * dim + i] = Math.cos(arg);
      out[b * dim + half + i] = Math.sin(arg);
    }
  }
  return { shape: [t.length, dim], data: out };
}
