// OpenCV's Gaussian kernel for 8-bit images: the bit-exact float kernel quantised to 8 fraction bits.

import { roundHalfEven } from '../image/index.ts';

/** Binomial kernels OpenCV uses when sigma ≤ 0 and the size is small. */
const SMALL: Record<number, number[]> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
};

/** The sigma OpenCV derives from an odd kernel size when sigma ≤ 0: 0.3·((k − 1)/2 − 1) + 0.8. */
export function sigmaForKernel(size: number): number {
  return size * 0.15 + 0.35;
}

/**
 * Normalised float64 Gaussian weights of an odd `size` as OpenCV's getGaussianKernel computes
 * them: exp(−x²/(2σ²)) for x = −(size−1)/2 … (size−1)/2, divided by their sum (the binomial tables
 * for sizes 1–7 when sigma ≤ 0).
 */
export function gaussianWeights(size: number, sigma: number): number[] {
  if (sigma <= 0 && SMALL[size]) return SMALL[size].slice();
  const s = sigma > 0 ? sigma : sigmaForKernel(size);
  // Same operation order as OpenCV (x doubled to stay an integer; multiply by the reciprocal sum).
  const scale = -0.125 / (s * s);
  const half = (size - 1) / 2;
  const side: number[] = [];
  let sum = 0;
  for (let i = 0, x = 1 - size; i < half; i++, x += 2) {
    side.push(Math.exp(x * x * scale));
    sum += side[i];
  }
  const inverse = 1 / (sum * 2 + 1);
  const left = side.map((v) => v * inverse);
  return [...left, inverse, ...left.reverse()];
}

/**
 * The weights as integers out of 256 (OpenCV's ufixedpoint16), rounded from the outermost tap inward
 * with error diffusion (each rounding error carried to the next tap, ties to even), the centre
 * taking what makes the sum exactly 256.
 */
export function gaussianKernel8(size: number, sigma: number): Int32Array {
  const w = gaussianWeights(size, sigma);
  const k = new Int32Array(size);
  const half = (size - 1) / 2;
  let err = 0;
  let sum = 0;
  for (let i = 0; i < half; i++) {
    const v = w[i] * 256 + err;
    const r = roundHalfEven(v);
    err = v - r;
    k[i] = k[size - 1 - i] = r;
    sum += 2 * r;
  }
  k[half] = 256 - sum;
  return k;
}
