// Bilinear resize with the arithmetic of OpenCV's cv2.resize(…, INTER_LINEAR) on 8-bit images,
// which the official demo applies to continuous condition maps.

import { checkImage, checkSize, type RgbaImage } from './image.ts';
import { roundHalfEven } from './snapSize.ts';

/** OpenCV's INTER_RESIZE_COEF_BITS: interpolation weights are integers out of 2^11. */
const COEF_SCALE = 2048;

/** One axis: for each destination index, the first source index, the second, and their weights. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
}

/**
 * OpenCV's coordinate rule (half-pixel centres, align_corners=False): s = (d + 0.5) · src/dst − 0.5
 * rounded to float32, weight = its fraction rounded to 11 bits (ties to even, as cvRound). On x a
 * coordinate outside [0, src − 1] is clamped (weight 1 on the edge pixel); on y OpenCV keeps the
 * unclamped fraction and clamps only the row indices, which differs after rounding, so both are kept.
 */
function taps(src: number, dst: number, clampWeights: boolean): Taps {
  const scale = 1 / (dst / src);
  const t: Taps = { i0: new Int32Array(dst), i1: new Int32Array(dst), w0: new Int32Array(dst), w1: new Int32Array(dst) };
  for (let d = 0; d < dst; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    let frac = Math.fround(f - s);
    if (clampWeights && s < 0) (s = 0), (frac = 0);
    if (clampWeights && s >= src - 1) (s = src - 1), (frac = 0);
    t.i0[d] = Math.min(Math.max(s, 0), src - 1);
    t.i1[d] = Math.min(Math.max(s + 1, 0), src - 1);
    t.w0[d] = roundHalfEven(Math.fround(1 - frac) * COEF_SCALE);
    t.w1[d] = roundHalfEven(frac * COEF_SCALE);
  }
  return t;
}

/**
 * OpenCV's exact-2x shrink: when both sides halve exactly, INTER_LINEAR switches to INTER_AREA,
 * the rounded mean of each 2x2 block.
 */
function halve(image: RgbaImage, width: number, height: number): Uint8Array {
  const src = image.data;
  const stride = image.width * 4;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = 2 * y * stride + 8 * x;
      for (let c = 0; c < 4; c++, o++) out[o] = (src[s + c] + src[s + 4 + c] + src[s + stride + c] + src[s + stride + 4 + c] + 2) >> 2;
    }
  }
  return out;
}

/**
 * Resizes an RGBA image (all four channels) to `width`x`height` the way cv2.resize(img, (width,
 * height), interpolation=INTER_LINEAR) does for uint8: half-pixel centres, edge pixels replicated,
 * 11-bit fixed-point weights, a horizontal pass kept as integers, and the vertical pass rounded
 * like OpenCV's SIMD kernel, ((h0 >> 4)·b0 >> 16) + ((h1 >> 4)·b1 >> 16) + 2 >> 2. An exact 2x
 * shrink of both sides averages 2x2 blocks, as OpenCV does. Equal sizes return a copy.
 */
export function resizeBilinear(image: RgbaImage, width: number, height: number): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkSize(width, height);
  if (width === image.width && height === image.height) return { width, height, data: Uint8Array.from(image.data) };
  if (image.width === 2 * width && image.height === 2 * height) return { width, height, data: halve(image, width, height) };
  const x = taps(image.width, width, true);
  const y = taps(image.height, height, false);
  const src = image.data;
  const srcStride = image.width * 4;
  // Horizontal pass for every source row a destination row reads (values scaled by 2^11).
  const rows = new Map<number, Int32Array>();
  const hRow = (sy: number): Int32Array => {
    let row = rows.get(sy);
    if (row) return row;
    row = new Int32Array(width * 4);
    const base = sy * srcStride;
    for (let d = 0; d < width; d++) {
      const a = base + 4 * x.i0[d];
      const b = base + 4 * x.i1[d];
      for (let c = 0; c < 4; c++) row[4 * d + c] = src[a + c] * x.w0[d] + src[b + c] * x.w1[d];
    }
    rows.set(sy, row);
    return row;
  };
  const out = new Uint8Array(width * height * 4);
  for (let d = 0; d < height; d++) {
    const r0 = hRow(y.i0[d]);
    const r1 = hRow(y.i1[d]);
    const b0 = y.w0[d];
    const b1 = y.w1[d];
    const o = d * width * 4;
    for (let i = 0; i < width * 4; i++) {
      const v = (((r0[i] >> 4) * b0) >> 16) + (((r1[i] >> 4) * b1) >> 16) + 2;
      out[o + i] = Math.min(255, Math.max(0, v >> 2));
    }
  }
  return { width, height, data: out };
}
