// The official annotator's HWC3 for 4-channel input: composite over white, drop alpha.

import { checkImage, type RgbaImage } from './image.ts';

/**
 * Composites an RGBA image over white and sets alpha to 255, with the official `HWC3` arithmetic
 * (float32: c·a/255 + 255·(1 − a/255), then truncated to uint8). Opaque images come back unchanged.
 * Apply it to decoded user images before preprocessing: a transparent background turns white, as
 * in the official demo.
 */
export function flattenAlpha(image: RgbaImage): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  const src = image.data;
  const out = Uint8Array.from(src);
  const f = Math.fround;
  for (let i = 0; i < out.length; i += 4) {
    const alpha = src[i + 3];
    if (alpha === 255) continue;
    const a = f(alpha / 255);
    const white = f(255 * f(1 - a));
    for (let c = 0; c < 3; c++) out[i + c] = Math.min(255, Math.max(0, Math.trunc(f(f(src[i + c] * a) + white))));
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}
