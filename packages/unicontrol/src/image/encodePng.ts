// RGBA → PNG bytes, in plain TypeScript plus pako's deflate, so Node and browsers write the
// same file for the same pixels.

import { deflate } from 'pako';
import { concatBytes } from './concatBytes.ts';
import { crc32 } from './crc32.ts';
import { checkImage, type RgbaImage } from './image.ts';
import { filterRows } from './pngFilter.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** One chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes an image as an 8-bit RGBA PNG: IHDR, one IDAT, IEND. The bytes depend only on the
 * pixels: per-row filters by the minimum-sum heuristic, zlib level 9 with the RLE strategy (pako,
 * whose output equals zlib's at the same settings), no timestamps. These are pngjs's defaults, so
 * files match what pngjs writes.
 */
export function encodePng(image: RgbaImage): Uint8Array {
  checkImage(image);
  const { width, height } = image;
  const px = image.data instanceof Uint8Array ? image.data : new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, RGBA, deflate, filter method 0, no interlace
  const idat = deflate(filterRows(px, width * 4, height, 4), { level: 9, strategy: 3 });
  return concatBytes(Uint8Array.from(SIGNATURE), chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0)));
}
