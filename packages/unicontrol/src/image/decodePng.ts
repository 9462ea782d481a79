// PNG → 8-bit RGBA, with the file's size checked against a pixel budget before decoding. Plain
// TypeScript, so Node and browsers decode alike.

import { pngPixels } from './pngPixels.ts';
import { readPngStructure } from './pngStructure.ts';

/** The default pixel budget: 4096x4096. */
export const DEFAULT_MAX_PIXELS = 4096 * 4096;

export interface DecodeOptions {
  /**
   * Largest width·height accepted (default 4096·4096), checked from the IHDR before anything is
   * allocated. Decoding peaks near 40 bytes per pixel for 16-bit RGBA, the worst case (measured:
   * 150 MB for 2048x2048), so the default bounds it near 650 MB; 8-bit images need less.
   */
  maxPixels?: number;
}

/**
 * Decodes a PNG into 8-bit RGBA: gray, gray+alpha, RGB, RGBA and palette images at any legal bit
 * depth (16-bit samples are rounded to 8 bits, low depths scaled to 0–255, tRNS transparency
 * becomes alpha). Gamma and colour-profile chunks are ignored, as OpenCV and PIL do.
 *
 * Throws ImageError: "not a PNG file: …" (with the format when the magic number is a common one),
 * "PNG is WxH = N pixels, over the limit …" (before decoding), or "corrupt PNG: …".
 */
export function decodePng(bytes: Uint8Array, options: DecodeOptions = {}): { width: number; height: number; data: Uint8Array } {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new RangeError(`maxPixels must be positive, got ${maxPixels}`);
  const structure = readPngStructure(bytes, maxPixels);
  return { width: structure.width, height: structure.height, data: pngPixels(structure) };
}
