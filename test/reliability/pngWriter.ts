// A minimal PNG writer for test inputs the library's encoder does not make: gray, gray+alpha,
// RGB, palette (with tRNS) and RGBA, at 1–16 bits per sample, any size.

import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 of a PNG chunk's type and data. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC. */
export function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** What to write: colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA), bit depth, samples. */
export interface PngSpec {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 1 | 2 | 4 | 8 | 16;
  /** The sample of channel `c` at (x, y), in [0, 2^bitDepth). */
  sample: (x: number, y: number, c: number) => number;
  /** RGB triples (palette images). */
  palette?: number[][];
  /** tRNS chunk bytes. */
  transparency?: Uint8Array;
}

/** Encodes `spec` as PNG bytes (filter 0 on every row, no interlace). */
export function writePng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, bitDepth } = spec;
  const channels = CHANNELS[colorType];
  const rowBytes = Math.ceil((width * channels * bitDepth) / 8);
  const raw = Buffer.alloc(height * (1 + rowBytes));
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * (1 + rowBytes) + 1, (y + 1) * (1 + rowBytes));
    let bit = 0;
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) {
        const v = spec.sample(x, y, c);
        if (bitDepth === 16) row.writeUInt16BE(v, bit / 8);
        else if (bitDepth === 8) row[bit / 8] = v;
        else row[bit >> 3] |= v << (8 - bitDepth - (bit & 7));
        bit += bitDepth;
      }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (spec.palette) parts.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  if (spec.transparency) parts.push(chunk('tRNS', spec.transparency));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return new Uint8Array(Buffer.concat(parts));
}
