// RGBA → PNG bytes.

import pngjs from 'pngjs';
import { checkImage, type RgbaImage } from './image.ts';

/**
 * Encodes an image as an 8-bit RGBA PNG. The bytes depend only on the pixels (fixed filter
 * heuristic and zlib settings, no timestamps), so equal images give equal files.
 */
export function encodePng(image: RgbaImage): Uint8Array {
  checkImage(image);
  const { width, height, data } = image;
  const bytes = pngjs.PNG.sync.write({ width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } as pngjs.PNG, {
    colorType: 6,
    inputColorType: 6,
    bitDepth: 8,
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
