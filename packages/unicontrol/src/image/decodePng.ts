// PNG → 8-bit RGBA, with the file's size checked against a pixel budget before decoding.

import { inflateSync } from 'node:zlib';
import pngjs from 'pngjs';
import { ImageError } from './imageError.ts';
import { CHANNELS, readPngStructure, type PngStructure } from './pngStructure.ts';

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

/** Adam7's seven passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

/** Bytes the decompressed image data must have: each (pass) row is a filter byte plus its samples. */
function rawSize(s: PngStructure): number {
  const bitsPerPixel = CHANNELS[s.colorType] * s.bitDepth;
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!s.interlaced) return rows(s.width, s.height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) total += rows(Math.ceil((s.width - x0) / dx), Math.ceil((s.height - y0) / dy));
  return total;
}

/**
 * Inflates the image data once with an output cap, so that a deflate bomb cannot allocate past
 * the budget and short, long or garbled data gets a clear message (pngjs would decode some of
 * these into garbage silently).
 */
function checkImageData(s: PngStructure): void {
  const want = rawSize(s);
  let got: number;
  try {
    got = inflateSync(Buffer.concat(s.idat), { maxOutputLength: want + 1 }).length;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE') throw new ImageError(`corrupt PNG: image data inflates to more than the ${want} bytes its ${s.width}x${s.height} header implies`);
    throw new ImageError(`corrupt PNG: image data is not a valid zlib stream (${err.message})`);
  }
  if (got !== want) throw new ImageError(`corrupt PNG: image data inflates to ${got} bytes, its ${s.width}x${s.height} header implies ${want}`);
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
  checkImageData(structure);
  let png: pngjs.PNGWithMetadata;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageError(`corrupt PNG: ${(e as Error).message}`);
  }
  const data = png.data;
  return { width: png.width, height: png.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
