// Canny edges exactly as the official demo's cv2.Canny(img, low, high) on the RGB image.

import { checkImage, type RgbaImage } from '../image/index.ts';
import { grayMap } from './grayMap.ts';
import { checkKeys, checkNumber } from './options.ts';

export interface CannyOptions {
  /** Hysteresis low threshold on the L1 gradient magnitude (default 40, the official demo's). */
  low?: number;
  /** Hysteresis high threshold (default 200). */
  high?: number;
}

export const CANNY_DEFAULTS = { low: 40, high: 200 } as const;

/** tan(22.5°) in OpenCV's 15-bit fixed point: (int)(0.41421356 · 2^15 + 0.5). */
const TG22 = 13573;
const SHIFT = 15;

/**
 * Per pixel, the Sobel gradient of the channel with the largest L1 magnitude, as OpenCV does for
 * multi-channel input: 3x3 Sobel (dx = [-1 0 1; -2 0 2; -1 0 1], dy its transpose) with
 * BORDER_REPLICATE; magnitude |dx| + |dy|; the first channel wins ties. `mag` has a one-pixel zero
 * frame so that non-maximum suppression sees 0 outside the image.
 */
function gradients(image: RgbaImage): { dx: Int32Array; dy: Int32Array; mag: Int32Array } {
  const { width: w, height: h, data } = image;
  const dx = new Int32Array(w * h);
  const dy = new Int32Array(w * h);
  const mag = new Int32Array((w + 2) * (h + 2));
  // Replicated borders: clamped neighbour columns and row offsets.
  const left = Int32Array.from({ length: w }, (_, x) => 4 * Math.max(x - 1, 0));
  const right = Int32Array.from({ length: w }, (_, x) => 4 * Math.min(x + 1, w - 1));
  for (let y = 0; y < h; y++) {
    const up = 4 * w * Math.max(y - 1, 0);
    const mid = 4 * w * y;
    const down = 4 * w * Math.min(y + 1, h - 1);
    for (let x = 0; x < w; x++) {
      const l = left[x];
      const r = right[x];
      const c0 = 4 * x;
      let best = -1;
      for (let c = 0; c < 3; c++) {
        const gx = data[up + r + c] - data[up + l + c] + 2 * (data[mid + r + c] - data[mid + l + c]) + data[down + r + c] - data[down + l + c];
        const gy = data[down + l + c] - data[up + l + c] + 2 * (data[down + c0 + c] - data[up + c0 + c]) + data[down + r + c] - data[up + r + c];
        const m = Math.abs(gx) + Math.abs(gy);
        if (m > best) {
          best = m;
          dx[y * w + x] = gx;
          dy[y * w + x] = gy;
        }
      }
      mag[(y + 1) * (w + 2) + x + 1] = best;
    }
  }
  return { dx, dy, mag };
}

/**
 * Canny edge map of the RGB channels (alpha ignored), with OpenCV 4's rules (L2gradient=false,
 * apertureSize 3), bit-exact:
 * 1. gradients: see above (multi-channel: strongest channel per pixel).
 * 2. thresholds: swapped if low > high, then floored to integers.
 * 3. non-maximum suppression of pixels with magnitude m > low, direction from the signs and ratio
 *    of dx, dy in 15-bit fixed point (tan 22.5° = 13573 / 2^15, tan 67.5° = tan 22.5° + 2):
 *    |dy|·2^15 < |dx|·TG22 → horizontal, keep if m > left and m ≥ right;
 *    |dy|·2^15 > |dx|·TG22 + |dx|·2^16 → vertical, keep if m > above and m ≥ below;
 *    otherwise diagonal, keep if m is > both neighbours along the gradient (up-left and
 *    down-right when dx, dy have the same sign, else up-right and down-left).
 * 4. hysteresis: kept pixels with m > high are edges; kept pixels connected to an edge through
 *    8-neighbours of kept pixels become edges too.
 * Output: edges 255, else 0, in R, G and B; alpha 255.
 */
export function canny(image: RgbaImage, options: CannyOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkKeys('canny', options, ['low', 'high']);
  let low = checkNumber('canny', 'low', options.low, CANNY_DEFAULTS.low, { min: 0 });
  let high = checkNumber('canny', 'high', options.high, CANNY_DEFAULTS.high, { min: 0 });
  if (low > high) [low, high] = [high, low];
  low = Math.floor(low);
  high = Math.floor(high);

  const { width: w, height: h } = image;
  const { dx, dy, mag } = gradients(image);
  const stride = w + 2;
  // 0: not an edge, 1: candidate (survived suppression, m > low), 2: edge.
  const state = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  let top = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y + 1) * stride + x + 1;
      const m = mag[p];
      if (m <= low) continue;
      const gx = dx[y * w + x];
      const gy = dy[y * w + x];
      const ax = Math.abs(gx);
      const ay = Math.abs(gy) << SHIFT;
      const tg22x = ax * TG22;
      let keep: boolean;
      if (ay < tg22x) {
        keep = m > mag[p - 1] && m >= mag[p + 1];
      } else if (ay > tg22x + (ax << (SHIFT + 1))) {
        keep = m > mag[p - stride] && m >= mag[p + stride];
      } else {
        const s = (gx ^ gy) < 0 ? -1 : 1;
        keep = m > mag[p - stride - s] && m > mag[p + stride + s];
      }
      if (!keep) continue;
      if (m > high) {
        state[y * w + x] = 2;
        stack[top++] = y * w + x;
      } else {
        state[y * w + x] = 1;
      }
    }
  }
  while (top > 0) {
    const i = stack[--top];
    const x = i % w;
    const y = (i - x) / w;
    for (let ny = Math.max(0, y - 1); ny <= Math.min(h - 1, y + 1); ny++) {
      for (let nx = Math.max(0, x - 1); nx <= Math.min(w - 1, x + 1); nx++) {
        const j = ny * w + nx;
        if (state[j] === 1) {
          state[j] = 2;
          stack[top++] = j;
        }
      }
    }
  }
  const edges = new Uint8Array(w * h);
  for (let i = 0; i < edges.length; i++) edges[i] = state[i] === 2 ? 255 : 0;
  return grayMap(w, h, edges);
}
