// PNG image data → 8-bit RGBA in plain TypeScript (pako's inflate), the same in Node and browsers:
// inflate with an output cap, undo the per-row filters, place Adam7 passes, widen every colour
// type and bit depth to RGBA.

import { Inflate } from 'pako';
import { ImageError } from './imageError.ts';
import { CHANNELS, type PngStructure } from './pngStructure.ts';

/** Adam7's seven passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
}

function passes(s: PngStructure): Pass[] {
  if (!s.interlaced) return [{ x0: 0, y0: 0, dx: 1, dy: 1, width: s.width, height: s.height }];
  return ADAM7.map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, width: Math.ceil((s.width - x0) / dx), height: Math.ceil((s.height - y0) / dy) })).filter(
    (p) => p.width > 0 && p.height > 0,
  );
}

const rowBytes = (s: PngStructure, width: number): number => Math.ceil((width * CHANNELS[s.colorType] * s.bitDepth) / 8);

/**
 * Inflates the image data with an output cap, so that a deflate bomb cannot allocate past what
 * the header implies, and short, long or garbled data gets a clear message.
 */
function inflate(s: PngStructure, want: number): Uint8Array {
  const out = new Uint8Array(want);
  let got = 0;
  let over = false;
  const inflater = new Inflate();
  inflater.onData = (chunk: Uint8Array) => {
    if (got + chunk.length > want) over = true;
    else out.set(chunk, got);
    got += chunk.length;
  };
  // Small input slices: a deflate bomb is noticed after at most ~1 MB of output, not after all of it.
  const SLICE = 1024;
  for (const chunk of s.idat) {
    for (let k = 0; k < chunk.length && !over && !inflater.err; k += SLICE) inflater.push(chunk.subarray(k, k + SLICE), false);
  }
  if (!over && !inflater.err) inflater.push(new Uint8Array(0), true);
  if (over) throw new ImageError(`corrupt PNG: image data inflates to more than the ${want} bytes its ${s.width}x${s.height} header implies`);
  if (inflater.err) throw new ImageError(`corrupt PNG: image data is not a valid zlib stream (${inflater.msg || `error ${inflater.err}`})`);
  if (got !== want || !inflater.ended) throw new ImageError(`corrupt PNG: image data inflates to ${got} bytes, its ${s.width}x${s.height} header implies ${want}`);
  return out;
}

/** Undoes one row's filter in place (`prev`: the unfiltered row above, zeros for the first). */
function unfilter(type: number, row: Uint8Array, prev: Uint8Array, bpp: number): void {
  const n = row.length;
  switch (type) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i] + prev[i]) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i] + (((i >= bpp ? row[i - bpp] : 0) + prev[i]) >> 1)) & 255;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        row[i] = (row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
      }
      return;
    default:
      throw new ImageError(`corrupt PNG: unknown row filter type ${type}`);
  }
}

/** Decodes the image data of a checked structure into RGBA, 8 bits per channel. */
export function pngPixels(s: PngStructure): Uint8Array {
  const list = passes(s);
  const raw = inflate(s, list.reduce((n, p) => n + p.height * (1 + rowBytes(s, p.width)), 0));
  const channels = CHANNELS[s.colorType];
  const depth = s.bitDepth;
  const bpp = Math.max(1, (channels * depth) >> 3);
  const maxSample = 2 ** depth - 1;
  const out = new Uint8Array(s.width * s.height * 4);
  const key = colourKey(s);
  let at = 0;
  for (const pass of list) {
    const stride = rowBytes(s, pass.width);
    let prev: Uint8Array = new Uint8Array(stride);
    for (let py = 0; py < pass.height; py++) {
      const row = raw.subarray(at + 1, at + 1 + stride);
      unfilter(raw[at], row, prev, bpp);
      at += 1 + stride;
      prev = row;
      const y = pass.y0 + py * pass.dy;
      for (let px = 0; px < pass.width; px++) {
        const sample = (c: number): number => {
          if (depth === 8) return row[px * channels + c];
          if (depth === 16) return (row[2 * (px * channels + c)] << 8) | row[2 * (px * channels + c) + 1];
          const bit = (px * channels + c) * depth;
          return (row[bit >> 3] >> (8 - depth - (bit & 7))) & maxSample;
        };
        writePixel(s, out, 4 * (y * s.width + pass.x0 + px * pass.dx), sample, maxSample, key);
      }
    }
  }
  return out;
}

/** tRNS of a gray or RGB image: the one sample value (per channel) that is transparent. */
function colourKey(s: PngStructure): number[] | undefined {
  const t = s.transparency;
  if (!t || (s.colorType !== 0 && s.colorType !== 2)) return undefined;
  const n = s.colorType === 0 ? 1 : 3;
  if (t.length < 2 * n) return undefined;
  return Array.from({ length: n }, (_, c) => (t[2 * c] << 8) | t[2 * c + 1]);
}

/** Nearest 8-bit value of a sample of `maxSample + 1` levels. */
const to8 = (v: number, maxSample: number): number => (maxSample === 255 ? v : Math.round((v * 255) / maxSample));

function writePixel(s: PngStructure, out: Uint8Array, o: number, sample: (c: number) => number, maxSample: number, key: number[] | undefined): void {
  switch (s.colorType) {
    case 0: {
      const g = sample(0);
      out[o] = out[o + 1] = out[o + 2] = to8(g, maxSample);
      out[o + 3] = key && g === key[0] ? 0 : 255;
      return;
    }
    case 2: {
      const rgb = [sample(0), sample(1), sample(2)];
      for (let c = 0; c < 3; c++) out[o + c] = to8(rgb[c], maxSample);
      out[o + 3] = key && rgb.every((v, c) => v === key[c]) ? 0 : 255;
      return;
    }
    case 3: {
      const i = sample(0);
      const palette = s.palette!;
      if (3 * i + 2 >= palette.length) throw new ImageError(`corrupt PNG: palette index ${i} beyond the ${palette.length / 3} PLTE entries`);
      out.set(palette.subarray(3 * i, 3 * i + 3), o);
      out[o + 3] = s.transparency && i < s.transparency.length ? s.transparency[i] : 255;
      return;
    }
    case 4: {
      out[o] = out[o + 1] = out[o + 2] = to8(sample(0), maxSample);
      out[o + 3] = to8(sample(1), maxSample);
      return;
    }
    default:
      for (let c = 0; c < 4; c++) out[o + c] = to8(sample(c), maxSample);
  }
}
