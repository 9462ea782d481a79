// Nearest-neighbour resize with OpenCV's INTER_NEAREST rule, for label maps (seg, openpose) whose
// colours must not blend.

import { checkImage, checkSize, type RgbaImage } from './image.ts';

/** Source index of each destination index, computed exactly as OpenCV: floor(d · (1 / (dst / src))), clamped. */
function nearestIndex(src: number, dst: number): Int32Array {
  const inverse = 1 / (dst / src);
  const index = new Int32Array(dst);
  for (let d = 0; d < dst; d++) index[d] = Math.min(Math.floor(d * inverse), src - 1);
  return index;
}

/**
 * Resizes an RGBA image to `width`x`height` by picking, for each destination pixel, the source
 * pixel cv2.resize(…, INTER_NEAREST) picks (top-left aligned: src = floor(dst · srcSize / dstSize)).
 * Bit-exact with OpenCV.
 */
export function resizeNearest(image: RgbaImage, width: number, height: number): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkSize(width, height);
  const xs = nearestIndex(image.width, width);
  const ys = nearestIndex(image.height, height);
  const src = image.data;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0, o = 0; y < height; y++) {
    const row = ys[y] * image.width;
    for (let x = 0; x < width; x++, o += 4) {
      const s = (row + xs[x]) * 4;
      out[o] = src[s];
      out[o + 1] = src[s + 1];
      out[o + 2] = src[s + 2];
      out[o + 3] = src[s + 3];
    }
  }
  return { width, height, data: out };
}
