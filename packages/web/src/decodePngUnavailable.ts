// Stands in for the Node PNG decoder (zlib + pngjs) in the browser bundle; build.ts swaps it in.

export type { DecodeOptions } from '../../unicontrol/src/image/decodePng.ts';

/** The default pixel budget: 4096x4096 (as in Node). */
export const DEFAULT_MAX_PIXELS = 4096 * 4096;

/** Not available in the browser build: decode files with `decodeImage(blob)` instead. */
export function decodePng(): never {
  throw new Error('decodePng is not in the browser build: use decodeImage(blob) (the browser decodes PNG, JPEG and WebP)');
}
