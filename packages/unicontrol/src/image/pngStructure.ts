// Walks a PNG's chunk list without decompressing anything, so that bad files and oversized
// images are refused before any pixel memory is allocated.

import { crc32 } from './crc32.ts';
import { ImageError } from './imageError.ts';

/** What the IHDR chunk says, plus where the compressed image data lies. */
export interface PngStructure {
  width: number;
  height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
  /** The IDAT chunks' payloads, in file order (views into the input, not copies). */
  idat: Uint8Array[];
  /** PLTE's RGB triples and tRNS's payload, when present (views). */
  palette?: Uint8Array;
  transparency?: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Bit depths the PNG spec allows for each colour type. */
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Samples per pixel for each colour type. */
export const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Names the format of non-PNG bytes when the magic number is a common one, for the error. */
function sniff(b: Uint8Array): string {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length === 0) return 'the file is empty';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'it looks like a JPEG';
  if (ascii(0, 4) === 'GIF8') return 'it looks like a GIF';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'it looks like a WebP';
  if (ascii(0, 2) === 'BM') return 'it looks like a BMP';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'it looks like a TIFF';
  return 'the PNG signature is missing';
}

function fail(message: string): never {
  throw new ImageError(`corrupt PNG: ${message}`);
}

/**
 * Checks the signature, the IHDR (first, 13 bytes, legal depth/colour type), the chunk framing and
 * CRCs up to IEND; refuses images over `maxPixels` as soon as the IHDR is read. Throws ImageError
 * with a specific message.
 */
export function readPngStructure(bytes: Uint8Array, maxPixels: number): PngStructure {
  if (bytes.length < 8 || SIGNATURE.some((v, i) => bytes[i] !== v)) {
    throw new ImageError(`not a PNG file: ${sniff(bytes)} (only PNG is supported; convert the image to PNG)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Omit<PngStructure, 'idat' | 'palette' | 'transparency'> | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; ; ) {
    if (at + 8 > bytes.length) fail(`truncated: the file ends at byte ${bytes.length} before the IEND chunk`);
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = at + 8;
    if (length > 0x7fffffff || data + length + 4 > bytes.length) {
      fail(`truncated: chunk ${JSON.stringify(type)} at byte ${at} needs ${length + 12} bytes (length, type, ${length} data, CRC), only ${bytes.length - at} remain`);
    }
    if (crc32(bytes.subarray(at + 4, data + length)) !== view.getUint32(data + length)) {
      fail(`CRC mismatch in chunk ${JSON.stringify(type)} at byte ${at}: the file is damaged`);
    }
    if (!header) {
      if (type !== 'IHDR' || length !== 13) fail(`the first chunk must be a 13-byte IHDR, found ${JSON.stringify(type)} (${length} bytes)`);
      header = readHeader(view, data, maxPixels);
    } else if (type === 'IHDR') {
      fail('more than one IHDR chunk');
    } else if (type === 'PLTE') {
      if (length % 3 !== 0 || length === 0 || length > 768) fail(`PLTE chunk of ${length} bytes is not 1–256 RGB entries`);
      palette = bytes.subarray(data, data + length);
    } else if (type === 'tRNS') {
      transparency = bytes.subarray(data, data + length);
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(data, data + length));
    } else if (type === 'IEND') {
      break;
    }
    at = data + length + 4;
  }
  if (idat.length === 0) fail('no image data (IDAT chunk)');
  if (header.colorType === 3 && !palette) fail('palette image without a PLTE chunk');
  return { ...header, idat, palette, transparency };
}

function readHeader(view: DataView, at: number, maxPixels: number): Omit<PngStructure, 'idat' | 'palette' | 'transparency'> {
  const width = view.getUint32(at);
  const height = view.getUint32(at + 4);
  const bitDepth = view.getUint8(at + 8);
  const colorType = view.getUint8(at + 9);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) fail(`invalid size ${width}x${height} in IHDR`);
  if (width * height > maxPixels) {
    throw new ImageError(
      `PNG is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} (maxPixels); ` +
        'scale it down first (about 512x512 is what the model is made for)',
    );
  }
  if (!DEPTHS[colorType]?.includes(bitDepth)) fail(`invalid colour type ${colorType} with bit depth ${bitDepth} in IHDR`);
  if (view.getUint8(at + 10) !== 0 || view.getUint8(at + 11) !== 0) fail('unknown compression or filter method in IHDR');
  const interlace = view.getUint8(at + 12);
  if (interlace > 1) fail(`unknown interlace method ${interlace} in IHDR`);
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}
