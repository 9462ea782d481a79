// The deblurring task's condition: the photo Gaussian-blurred.

import { checkImage, type RgbaImage } from '../image/index.ts';
import { gaussianKernel8 } from './gaussianKernel.ts';
import { checkKeys, checkNumber } from './options.ts';

export interface BlurOptions {
  /** Odd kernel size k (a k x k kernel), 1–255. Default 51, the official demo's slider default. */
  kernel?: number;
  /**
   * Gaussian sigma in pixels. Default 4: the official Blurrer calls
   * cv2.GaussianBlur(img, (k, k), cv2.BORDER_DEFAULT), which passes BORDER_DEFAULT (= 4) as sigmaX.
   * 0 derives it from the kernel size as OpenCV does: 0.3·((k − 1)/2 − 1) + 0.8.
   */
  sigma?: number;
}

export const BLUR_DEFAULTS = { kernel: 51, sigma: 4 } as const;

/** OpenCV's BORDER_REFLECT_101 (BORDER_DEFAULT): …, 2, 1 | 0, 1, 2, … n−1 | n−2, …, reflected again if needed. */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/**
 * Gaussian blur of the RGB channels (alpha set to 255) with cv2.GaussianBlur's 8-bit arithmetic,
 * bit-exact: separable kernel of integer weights out of 256 (see `gaussianKernel8`), a horizontal
 * pass kept exact, a vertical pass, then one rounding (sum + 2^15) >> 16; borders BORDER_REFLECT_101.
 */
export function blur(image: RgbaImage, options: BlurOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkKeys('blur', options, ['kernel', 'sigma']);
  const size = checkNumber('blur', 'kernel', options.kernel, BLUR_DEFAULTS.kernel, { integer: true, odd: true, min: 1, max: 255 });
  const sigma = checkNumber('blur', 'sigma', options.sigma, BLUR_DEFAULTS.sigma, { min: 0, max: 1000 });
  const full = gaussianKernel8(size, sigma);
  // Taps that round to 0 in 8 bits add nothing (with sigma 4, 51 taps shrink to about 23).
  const skip = full.findIndex((v) => v !== 0);
  const k = full.subarray(skip, size - skip);
  const r = (size - 1) / 2;
  const taps = k.length;
  const { width: w, height: h, data } = image;
  const xs = Int32Array.from({ length: w + taps }, (_, i) => reflect101(i + skip - r, w));
  const ys = Int32Array.from({ length: h + taps }, (_, i) => reflect101(i + skip - r, h));
  // Horizontal pass: values scaled by 256, at most 255·256, exact.
  const rows = new Int32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = 0; t < taps; t++) {
        const p = 4 * (y * w + xs[x + t]);
        s0 += k[t] * data[p];
        s1 += k[t] * data[p + 1];
        s2 += k[t] * data[p + 2];
      }
      const o = 3 * (y * w + x);
      rows[o] = s0;
      rows[o + 1] = s1;
      rows[o + 2] = s2;
    }
  }
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      for (let t = 0; t < taps; t++) {
        const o = 3 * (ys[y + t] * w + x);
        s0 += k[t] * rows[o];
        s1 += k[t] * rows[o + 1];
        s2 += k[t] * rows[o + 2];
      }
      const o = 4 * (y * w + x);
      out[o] = (s0 + 32768) >> 16;
      out[o + 1] = (s1 + 32768) >> 16;
      out[o + 2] = (s2 + 32768) >> 16;
      out[o + 3] = 255;
    }
  }
  return { width: w, height: h, data: out };
}
