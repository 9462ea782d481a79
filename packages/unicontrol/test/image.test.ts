// Image I/O: PNG decoding of every colour type and depth (from PNGs built here byte by byte),
// clear errors for bad files, resizing against a float64 reference and against OpenCV itself
// (hashes of cv2 outputs), output sizes against numpy's rounding, alpha flattening and the hint.

import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodePng,
  encodePng,
  flattenAlpha,
  ImageError,
  resizeBilinear,
  resizeNearest,
  resolutionSize,
  snapSize,
  snapTo64,
  toHintTensor,
  type RgbaImage,
} from '../src/image/index.ts';
import { randomBytes, randomImage } from './testImages.ts';
import { chunk } from '../../../test/reliability/pngWriter.ts';

// ---------------------------------------------------------------------------------------------
// Test images


/**
 * The image the OpenCV hashes below were made from: a bright rectangle in the lower right, a
 * diagonal ramp and hash noise; `channels` interleaved (3 for RGB, 4 for RGBA).
 */
function pattern(width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const base = (3 * x >= width && 4 * y >= height ? 170 : 40) + (((x + y) * 5) % 50) + c * 10;
        const noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) & 63;
        out[(y * width + x) * channels + c] = Math.min(255, base + noise);
      }
    }
  }
  return out;
}

function patternRgba(width: number, height: number): RgbaImage {
  return { width, height, data: pattern(width, height, 4) };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

// ---------------------------------------------------------------------------------------------
// A minimal PNG writer, independent of pngjs, for formats pngjs cannot write (chunks and CRCs from
// the reliability tests' writer).

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface PngSpec {
  width: number;
  height: number;
  colorType: number;
  bitDepth: number;
  /** The samples of pixel (x, y) at the file's bit depth. */
  pixel: (x: number, y: number) => number[];
  interlace?: boolean;
  /** Chunks placed between IHDR and IDAT (PLTE, tRNS). */
  extra?: [string, Uint8Array][];
}

/** One filtered row (filter type 0) of the pixels at columns `xs` of row y. */
function packRow(spec: PngSpec, xs: number[], y: number): number[] {
  const samples = xs.flatMap((x) => spec.pixel(x, y));
  const bytes = [0];
  if (spec.bitDepth === 16) {
    for (const s of samples) bytes.push(s >> 8, s & 255);
  } else if (spec.bitDepth === 8) {
    bytes.push(...samples);
  } else {
    const perByte = 8 / spec.bitDepth;
    for (let i = 0; i < samples.length; i += perByte) {
      let b = 0;
      for (let j = 0; j < perByte; j++) b |= (samples[i + j] ?? 0) << (8 - spec.bitDepth * (j + 1));
      bytes.push(b);
    }
  }
  return bytes;
}

function buildPng(spec: PngSpec, idat?: Uint8Array): Uint8Array {
  const range = (from: number, to: number, step: number) => Array.from({ length: Math.max(0, Math.ceil((to - from) / step)) }, (_, i) => from + i * step);
  const passes = spec.interlace
    ? [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]
    : [[0, 0, 1, 1]];
  const raw: number[] = [];
  for (const [x0, y0, dx, dy] of idat ? [] : passes) {
    const xs = range(x0, spec.width, dx);
    if (xs.length === 0) continue;
    for (const y of range(y0, spec.height, dy)) raw.push(...packRow(spec, xs, y));
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, spec.width);
  view.setUint32(4, spec.height);
  ihdr.set([spec.bitDepth, spec.colorType, 0, 0, spec.interlace ? 1 : 0], 8);
  const parts = [
    SIGNATURE,
    chunk('IHDR', ihdr),
    ...(spec.extra ?? []).map(([type, data]) => chunk(type, data)),
    chunk('IDAT', idat ?? deflateSync(Uint8Array.from(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  return Buffer.concat(parts);
}

/** An 8-bit RGBA value from a sample of `depth` bits: nearest of 0–255. */
const to8 = (sample: number, depth: number) => Math.round((sample * 255) / (2 ** depth - 1));

function expectPixels(image: RgbaImage, expected: (x: number, y: number) => number[]): void {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = 4 * (y * image.width + x);
      expect([...image.data.subarray(i, i + 4)], `pixel (${x}, ${y})`).toEqual(expected(x, y));
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('decodePng: colour types and bit depths', () => {
  const w = 7;
  const h = 5;
  const sample = (x: number, y: number, c: number, depth: number) => (x * 37 + y * 101 + c * 59 + x * y * 13) % 2 ** depth;

  for (const depth of [1, 2, 4, 8, 16]) {
    it(`gray, ${depth}-bit`, () => {
      const png = buildPng({ width: w, height: h, colorType: 0, bitDepth: depth, pixel: (x, y) => [sample(x, y, 0, depth)] });
      const v = (x: number, y: number) => to8(sample(x, y, 0, depth), depth);
      expectPixels(decodePng(png), (x, y) => [v(x, y), v(x, y), v(x, y), 255]);
    });
  }

  for (const depth of [8, 16]) {
    it(`RGB, gray+alpha and RGBA, ${depth}-bit`, () => {
      const s = (x: number, y: number, c: number) => sample(x, y, c, depth);
      const e = (x: number, y: number, c: number) => to8(s(x, y, c), depth);
      const rgb = buildPng({ width: w, height: h, colorType: 2, bitDepth: depth, pixel: (x, y) => [s(x, y, 0), s(x, y, 1), s(x, y, 2)] });
      expectPixels(decodePng(rgb), (x, y) => [e(x, y, 0), e(x, y, 1), e(x, y, 2), 255]);
      const ga = buildPng({ width: w, height: h, colorType: 4, bitDepth: depth, pixel: (x, y) => [s(x, y, 0), s(x, y, 3)] });
      expectPixels(decodePng(ga), (x, y) => [e(x, y, 0), e(x, y, 0), e(x, y, 0), e(x, y, 3)]);
      const rgba = buildPng({ width: w, height: h, colorType: 6, bitDepth: depth, pixel: (x, y) => [0, 1, 2, 3].map((c) => s(x, y, c)) });
      expectPixels(decodePng(rgba), (x, y) => [0, 1, 2, 3].map((c) => e(x, y, c)));
    });
  }

  for (const depth of [1, 2, 4, 8]) {
    it(`palette, ${depth}-bit, with tRNS alpha`, () => {
      const entries = 2 ** depth;
      const palette = Array.from({ length: entries }, (_, i) => [(i * 53) % 256, (i * 97 + 20) % 256, (255 - i * 31) & 255]);
      const alpha = Array.from({ length: Math.min(entries, 3) }, (_, i) => i * 100); // entries past tRNS are opaque
      const index = (x: number, y: number) => (x + 3 * y) % entries;
      const png = buildPng({
        width: w,
        height: h,
        colorType: 3,
        bitDepth: depth,
        pixel: (x, y) => [index(x, y)],
        extra: [['PLTE', Uint8Array.from(palette.flat())], ['tRNS', Uint8Array.from(alpha)]],
      });
      expectPixels(decodePng(png), (x, y) => [...palette[index(x, y)], alpha[index(x, y)] ?? 255]);
    });
  }

  it('gray with a tRNS colour key: that gray becomes transparent', () => {
    const png = buildPng({ width: 3, height: 1, colorType: 0, bitDepth: 8, pixel: (x) => [x * 100], extra: [['tRNS', Uint8Array.from([0, 100])]] });
    const img = decodePng(png);
    expect([img.data[3], img.data[7], img.data[11]]).toEqual([255, 0, 255]);
  });

  it('Adam7-interlaced RGB, including sizes smaller than the 8x8 pattern', () => {
    for (const [iw, ih] of [[1, 1], [3, 2], [9, 10]]) {
      const s = (x: number, y: number, c: number) => (x * 31 + y * 17 + c * 80) % 256;
      const png = buildPng({ width: iw, height: ih, colorType: 2, bitDepth: 8, interlace: true, pixel: (x, y) => [s(x, y, 0), s(x, y, 1), s(x, y, 2)] });
      expectPixels(decodePng(png), (x, y) => [s(x, y, 0), s(x, y, 1), s(x, y, 2), 255]);
    }
  });

  it('1x1 images', () => {
    const png = buildPng({ width: 1, height: 1, colorType: 6, bitDepth: 8, pixel: () => [1, 2, 3, 4] });
    expect(decodePng(png)).toEqual({ width: 1, height: 1, data: new Uint8Array([1, 2, 3, 4]) });
  });
});

describe('decodePng: bad files give specific errors, fast, without allocating', () => {
  const good = encodePng(randomImage(16, 16, 7));
  const errorOf = (bytes: Uint8Array, maxPixels?: number): ImageError => {
    try {
      decodePng(bytes, maxPixels === undefined ? {} : { maxPixels });
    } catch (e) {
      expect(e).toBeInstanceOf(ImageError);
      return e as ImageError;
    }
    throw new Error('decodePng accepted bad input');
  };

  it('bytes that are not a PNG name what they look like', () => {
    expect(errorOf(new Uint8Array(0)).message).toMatch(/^not a PNG file: the file is empty/);
    expect(errorOf(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46])).message).toMatch(/^not a PNG file: it looks like a JPEG/);
    expect(errorOf(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1')).message).toMatch(/GIF/);
    expect(errorOf(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 ', 'latin1')).message).toMatch(/WebP/);
    expect(errorOf(randomBytes(100, 3)).message).toMatch(/^not a PNG file: the PNG signature is missing/);
  });

  it('every truncation of a valid PNG is refused as corrupt', () => {
    for (let cut = 8; cut < good.length; cut++) expect(errorOf(good.subarray(0, cut)).message).toMatch(/^corrupt PNG: /);
    expect(errorOf(good.subarray(0, 40)).message).toMatch(/truncated/);
  });

  it('a flipped byte in the image data fails the CRC', () => {
    const bad = good.slice();
    bad[45] ^= 0xff; // inside the IDAT payload
    expect(errorOf(bad).message).toMatch(/^corrupt PNG: CRC mismatch in chunk "IDAT" at byte 33: the file is damaged$/);
  });

  it('IHDR problems: not first, bad depth for the colour type, zero size', () => {
    const noHeader = Buffer.concat([SIGNATURE, chunk('IEND', new Uint8Array(0))]);
    expect(errorOf(noHeader).message).toMatch(/first chunk must be a 13-byte IHDR/);
    const badDepth = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 4, pixel: () => [0, 0, 0] });
    expect(errorOf(badDepth).message).toMatch(/invalid colour type 2 with bit depth 4/);
    const empty = buildPng({ width: 0, height: 2, colorType: 0, bitDepth: 8, pixel: () => [0] });
    expect(errorOf(empty).message).toMatch(/invalid size 0x2/);
  });

  it('image data of the wrong length or not zlib at all', () => {
    const spec = { width: 16, height: 16, colorType: 6, bitDepth: 8, pixel: () => [0, 0, 0, 0] };
    expect(errorOf(buildPng(spec, deflateSync(new Uint8Array(100)))).message).toMatch(/inflates to 100 bytes, its 16x16 header implies 1040/);
    expect(errorOf(buildPng(spec, Uint8Array.from([1, 2, 3, 4]))).message).toMatch(/not a valid zlib stream/);
  });

  it('a deflate bomb (50 MB of zeros behind a 16x16 header) is stopped at the expected size', () => {
    const bomb = deflateSync(new Uint8Array(50_000_000));
    for (const interlace of [false, true]) {
      const before = process.memoryUsage().arrayBuffers;
      const started = performance.now();
      const png = buildPng({ width: 16, height: 16, colorType: 6, bitDepth: 8, interlace, pixel: () => [0, 0, 0, 0] }, bomb);
      expect(errorOf(png).message).toMatch(/inflates to more than the \d+ bytes its 16x16 header implies/);
      expect(performance.now() - started).toBeLessThan(200);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(5_000_000);
    }
  });

  it('sizes over the pixel budget are refused from the IHDR alone', () => {
    const header = (width: number, height: number) =>
      buildPng({ width, height, colorType: 6, bitDepth: 8, pixel: () => [0, 0, 0, 0] }, deflateSync(new Uint8Array(10)));
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    expect(errorOf(header(100000, 100000)).message).toBe(
      'PNG is 100000x100000 = 10000000000 pixels, over the limit of 16777216 (maxPixels); scale it down first (about 512x512 is what the model is made for)',
    );
    expect(errorOf(header(8192, 8192)).message).toMatch(/^PNG is 8192x8192 = 67108864 pixels, over the limit of 16777216/);
    expect(errorOf(header(64, 65), 64 * 64).message).toMatch(/over the limit of 4096/);
    expect(performance.now() - started).toBeLessThan(50);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1_000_000);
    expect(() => decodePng(good, { maxPixels: 0 })).toThrow(RangeError);
  });
});

describe('encodePng', () => {
  it('round-trips RGBA exactly and is deterministic', () => {
    for (const [w, h] of [[1, 1], [7, 5], [64, 64], [3, 100]]) {
      const img = randomImage(w, h, w * 1000 + h);
      const png = encodePng(img);
      expect(decodePng(png)).toEqual({ width: w, height: h, data: new Uint8Array(img.data) });
      expect(encodePng({ ...img, data: new Uint8ClampedArray(img.data) })).toEqual(png);
    }
  });

  it('refuses malformed images', () => {
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) })).toThrow(/must hold 2x2x4 = 16 bytes/);
    expect(() => encodePng({ width: 0, height: 2, data: new Uint8Array(0) })).toThrow(/positive integers/);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * Exact bilinear interpolation in float64: half-pixel centres, source coordinate clamped to the
 * image, rounded to nearest.
 */
function bilinearReference(img: RgbaImage, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh * 4);
  const coord = (d: number, src: number, dst: number) => Math.min(Math.max(((d + 0.5) * src) / dst - 0.5, 0), src - 1);
  for (let y = 0; y < dh; y++) {
    const fy = coord(y, img.height, dh);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    for (let x = 0; x < dw; x++) {
      const fx = coord(x, img.width, dw);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      for (let c = 0; c < 4; c++) {
        const p = (xx: number, yy: number) => img.data[4 * (yy * img.width + xx) + c];
        const top = p(x0, y0) * (1 - (fx - x0)) + p(x1, y0) * (fx - x0);
        const bottom = p(x0, y1) * (1 - (fx - x0)) + p(x1, y1) * (fx - x0);
        out[4 * (y * dw + x) + c] = Math.round(top * (1 - (fy - y0)) + bottom * (fy - y0));
      }
    }
  }
  return out;
}

/** sha256 prefixes of cv2.resize (OpenCV 4.6.0) on `pattern(w, h, 4)`. */
const OPENCV_RESIZE = [
  { op: 'linear', w: 16, h: 12, dw: 8, dh: 6, sha: 'd612f3ba92ddfc1c' },
  { op: 'linear', w: 16, h: 12, dw: 23, dh: 17, sha: '02f82b4e03202f2c' },
  { op: 'linear', w: 16, h: 12, dw: 5, dh: 4, sha: 'be9a0462be9f483d' },
  { op: 'linear', w: 33, h: 25, dw: 64, dh: 64, sha: 'd15b471a8883c288' },
  { op: 'linear', w: 1, h: 1, dw: 3, dh: 2, sha: 'b1edc5878c870d91' },
  { op: 'linear', w: 64, h: 64, dw: 27, dh: 31, sha: 'd0758f1a4e072e68' },
  { op: 'nearest', w: 16, h: 12, dw: 23, dh: 17, sha: '7de2553901e4d63f' },
  { op: 'nearest', w: 2, h: 1, dw: 98, dh: 1, sha: '1d5c5703c8c0834c' },
  { op: 'nearest', w: 33, h: 25, dw: 64, dh: 64, sha: 'fc1bf1a359979f90' },
  { op: 'nearest', w: 64, h: 64, dw: 27, dh: 31, sha: 'f14bad1724358b8f' },
] as const;

describe('resizeBilinear', () => {
  const sizes = [[1, 1, 5, 3], [7, 5, 13, 11], [16, 16, 8, 8], [33, 31, 10, 9], [5, 1, 64, 64], [40, 30, 17, 61], [64, 48, 64, 48], [100, 80, 64, 64]];

  // OpenCV weights are 11-bit integers and its vertical pass truncates twice before rounding, so
  // it can land one level from the exactly rounded value, never further.
  it('is within one level of exact float64 bilinear interpolation (random and smooth images)', () => {
    for (const [w, h, dw, dh] of sizes) {
      for (const img of [randomImage(w, h, w * 7 + h), patternRgba(w, h)]) {
        const got = resizeBilinear(img, dw, dh).data;
        const ref = bilinearReference(img, dw, dh);
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
        expect(worst, `${w}x${h} → ${dw}x${dh}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('keeps constant images constant, copies at equal size, and averages 2x2 blocks when halving', () => {
    const flat = { width: 9, height: 7, data: new Uint8Array(9 * 7 * 4).fill(201) };
    expect(resizeBilinear(flat, 31, 3).data.every((v) => v === 201)).toBe(true);
    const img = randomImage(6, 4, 11);
    const same = resizeBilinear(img, 6, 4);
    expect(same.data).toEqual(new Uint8Array(img.data));
    expect(same.data).not.toBe(img.data);
    const half = resizeBilinear(img, 3, 2).data;
    const at = (x: number, y: number, c: number) => img.data[4 * (y * 6 + x) + c];
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 4; c++) {
          const sum = at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c);
          expect(half[4 * (y * 3 + x) + c]).toBe(Math.floor((sum + 2) / 4));
        }
      }
    }
  });

  it('is bit-exact with cv2.resize(INTER_LINEAR)', () => {
    for (const c of OPENCV_RESIZE.filter((c) => c.op === 'linear')) {
      expect(sha(resizeBilinear(patternRgba(c.w, c.h), c.dw, c.dh).data), `${c.w}x${c.h} → ${c.dw}x${c.dh}`).toBe(c.sha);
    }
  });
});

describe('resizeNearest', () => {
  it('picks floor(d · src / dst), except that at exact integers OpenCV’s double arithmetic may pick one less', () => {
    for (const [w, h, dw, dh] of [[1, 1, 4, 3], [7, 5, 13, 11], [16, 12, 23, 17], [33, 31, 10, 9], [2, 1, 98, 5], [64, 64, 27, 31]]) {
      const img = randomImage(w, h, w + 100 * h);
      const got = resizeNearest(img, dw, dh).data;
      const allowed = (d: number, src: number, dst: number) => {
        const exact = Math.floor((d * src) / dst);
        return (d * src) % dst === 0 && exact > 0 ? [exact, exact - 1] : [exact];
      };
      for (let y = 0; y < dh; y++) {
        for (let x = 0; x < dw; x++) {
          const pixel = [...got.subarray(4 * (y * dw + x), 4 * (y * dw + x) + 4)];
          const candidates = allowed(y, h, dh).flatMap((sy) => allowed(x, w, dw).map((sx) => [...img.data.subarray(4 * (sy * w + sx), 4 * (sy * w + sx) + 4)]));
          expect(candidates, `${w}x${h} → ${dw}x${dh} at (${x}, ${y})`).toContainEqual(pixel);
        }
      }
    }
  });

  it('never blends: every output pixel is an input pixel', () => {
    const labels = { width: 4, height: 1, data: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255]) };
    const out = resizeNearest(labels, 13, 5).data;
    const colours = new Set(Array.from({ length: 4 }, (_, i) => labels.data.subarray(4 * i, 4 * i + 4).join()));
    for (let i = 0; i < out.length; i += 4) expect(colours.has(out.subarray(i, i + 4).join())).toBe(true);
  });

  it('is bit-exact with cv2.resize(INTER_NEAREST), e.g. 2 → 98 columns picks column 0 at x = 49', () => {
    for (const c of OPENCV_RESIZE.filter((c) => c.op === 'nearest')) {
      expect(sha(resizeNearest(patternRgba(c.w, c.h), c.dw, c.dh).data), `${c.w}x${c.h} → ${c.dw}x${c.dh}`).toBe(c.sha);
    }
    const two = { width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 255]) };
    expect([...resizeNearest(two, 98, 1).data.filter((_, i) => i % 4 === 0).subarray(48, 51)]).toEqual([0, 0, 255]);
  });
});

describe('output sizes', () => {
  it('snapTo64 rounds to the nearest multiple of 64, ties to even as np.round, at least 64', () => {
    expect([1, 31, 64, 95, 96, 100, 160, 224, 8192, 8200].map(snapTo64)).toEqual([64, 64, 64, 64, 128, 128, 128, 256, 8192, 8192]);
    expect(snapSize(100, 513)).toEqual({ width: 128, height: 512 });
    for (const bad of [0, -64, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => snapTo64(bad)).toThrow(RangeError);
  });

  it('resolutionSize matches the official resize_image (values computed with numpy)', () => {
    const cases: [number, number, number, number, number][] = [
      [1000, 750, 512, 704, 512],
      [1, 1, 512, 512, 512],
      [600, 400, 512, 768, 512],
      [512, 512, 512, 512, 512],
      [333, 777, 512, 512, 1216],
      [1920, 1080, 768, 1344, 768],
      [100, 300, 256, 256, 768],
      [640, 480, 384, 512, 384],
      [800, 1200, 512, 512, 768],
      [800, 512, 512, 768, 512], // 12.5 → 12
      [864, 512, 512, 896, 512], // 13.5 → 14
    ];
    for (const [w, h, res, ew, eh] of cases) expect(resolutionSize(w, h, res), `${w}x${h} @ ${res}`).toEqual({ width: ew, height: eh });
    expect(() => resolutionSize(100, 100, 32)).toThrow(/resolution must be a number ≥ 64/);
  });
});

describe('flattenAlpha and toHintTensor', () => {
  // Every (colour, alpha) pair: R = c, G = 255 − c, B = 7c mod 256, alpha = row.
  const grid = (): RgbaImage => {
    const data = new Uint8Array(256 * 256 * 4);
    for (let a = 0; a < 256; a++) {
      for (let c = 0; c < 256; c++) data.set([c, 255 - c, (c * 7) % 256, a], 4 * (a * 256 + c));
    }
    return { width: 256, height: 256, data };
  };

  it('composites over white like the official HWC3 (bit-exact with numpy float32, within 1 of float64)', () => {
    const img = grid();
    const out = flattenAlpha(img).data;
    const rgb = new Uint8Array(256 * 256 * 3);
    let worst = 0;
    for (let i = 0; i < 256 * 256; i++) {
      rgb.set(out.subarray(4 * i, 4 * i + 3), 3 * i);
      const a = img.data[4 * i + 3] / 255;
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(out[4 * i + c] - Math.trunc(img.data[4 * i + c] * a + 255 * (1 - a))));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(out.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
    // sha256 of HWC3(grid) computed with numpy 1.24.
    expect(sha(rgb)).toBe('bb76196952148e5d');
  });

  it('the hint is [1, 3, H, W] planar RGB / 255, alpha ignored', () => {
    const img = { width: 3, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) };
    const { data, shape } = toHintTensor(img);
    expect(shape).toEqual([1, 3, 2, 3]);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 6; p++) expect(data[c * 6 + p]).toBeCloseTo((p * 4 + c) * 10 / 255, 7);
    }
  });
});
