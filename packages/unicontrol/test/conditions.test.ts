// Condition preprocessors against plain references written from the definitions (float64, direct
// loops), on random and structured images of odd sizes down to 1x1, and against the official
// tools themselves: hashes of cv2 4.6.0 / scikit-image 0.19.3 outputs on a fixed pattern.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bbox,
  blur,
  canny,
  COCO_COLORS,
  CONDITIONS,
  gaussianKernel8,
  gaussianWeights,
  grayscale,
  inpaint,
  outpaint,
  parseBoxes,
  USER_MAPS,
} from '../src/conditions/index.ts';
import type { RgbaImage } from '../src/image/index.ts';
import { TASK_INFO } from '../src/tasks.ts';
import { randomBytes, randomImage } from './testImages.ts';

// ---------------------------------------------------------------------------------------------
// Test images


/** Same generator as the one the OpenCV hashes were made from (see image.test.ts); RGBA with alpha from the pattern. */
function pattern(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        const base = (3 * x >= width && 4 * y >= height ? 170 : 40) + (((x + y) * 5) % 50) + c * 10;
        const noise = ((x * 73856093) ^ (y * 19349663) ^ (c * 83492791)) & 63;
        data[(y * width + x) * 4 + c] = Math.min(255, base + noise);
      }
    }
  }
  return { width, height, data };
}

/** Shapes: a filled rectangle, a disc, a ramp and a thin line, in different colours. */
function shapes(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 4 * (y * width + x);
      let rgb = [Math.floor((x * 255) / Math.max(1, width - 1)), 30, 60];
      if (x > width / 5 && x < width / 2 && y > height / 4 && y < (3 * height) / 4) rgb = [200, 200, 40];
      if ((x - (2 * width) / 3) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 4) ** 2) rgb = [20, 90, 250];
      if (x === y) rgb = [255, 255, 255];
      data.set([...rgb, 255], o);
    }
  }
  return { width, height, data };
}

const SIZES = [[1, 1], [2, 3], [5, 1], [9, 7], [16, 12], [31, 17], [40, 40]];

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** Channel `c` of every pixel (for single-channel maps: the value cv2 returns). */
const channel = (img: { data: Uint8Array }, c = 0) => img.data.filter((_, i) => i % 4 === c);
const rgbOf = (img: { data: Uint8Array }) => img.data.filter((_, i) => i % 4 !== 3);

/** Byte-for-byte equality, reporting the first difference (deep equality on megabytes is slow). */
function expectBytes(got: Uint8Array | Uint8ClampedArray, want: Uint8Array, label = ''): void {
  expect(got.length, label).toBe(want.length);
  const i = got.findIndex((v, k) => v !== want[k]);
  expect(i === -1 ? 'equal' : `byte ${i}: got ${got[i]}, want ${want[i]}`, label).toBe('equal');
}

function expectGrayOpaque(img: { data: Uint8Array }): void {
  for (let i = 0; i < img.data.length; i += 4) {
    expect(img.data[i + 1]).toBe(img.data[i]);
    expect(img.data[i + 2]).toBe(img.data[i]);
    expect(img.data[i + 3]).toBe(255);
  }
}

/** sha256 prefixes of the official tools' outputs on `pattern(w, h)` (RGB for cv2, alpha dropped). */
const OFFICIAL = [
  { op: 'canny', w: 16, h: 12, low: 40, high: 200, sha: '0147305c23d1a13d' },
  { op: 'canny', w: 16, h: 12, low: 20, high: 60, sha: 'e1b6da908dfd94b1' },
  { op: 'canny', w: 33, h: 25, low: 100, high: 200, sha: '463733b3d7fc9d44' },
  { op: 'canny', w: 33, h: 25, low: 40.7, high: 120.2, sha: 'f2f8a459d42e0075' },
  { op: 'canny', w: 1, h: 1, low: 40, high: 200, sha: '6e340b9cffb37a98' },
  { op: 'canny', w: 5, h: 3, low: 10, high: 20, sha: '21a0b6c99f389b8f' },
  { op: 'blur', w: 16, h: 12, kernel: 51, sigma: 4, sha: 'f74cb1631ba5cd85' },
  { op: 'blur', w: 16, h: 12, kernel: 5, sigma: 0, sha: '94b5d92509989011' },
  { op: 'blur', w: 33, h: 25, kernel: 9, sigma: 0, sha: '83e804d7b4813b5e' },
  { op: 'blur', w: 33, h: 25, kernel: 15, sigma: 2.5, sha: '3207644177660331' },
  { op: 'blur', w: 7, h: 5, kernel: 101, sigma: 4, sha: 'c27fc52adce96f3a' },
  { op: 'blur', w: 1, h: 1, kernel: 3, sigma: 0, sha: '7d6ca2a699a13a9c' },
  { op: 'grayscale', w: 16, h: 12, sha: 'fb94b5cbb09a24df' },
  { op: 'grayscale', w: 33, h: 25, sha: '441eae6bb4eb83ee' },
] as const;

// ---------------------------------------------------------------------------------------------
// Canny

/**
 * Canny from the textbook definition with OpenCV's conventions: Sobel on each RGB channel with
 * replicated borders, the channel of largest |gx| + |gy|, gradient direction binned by angle
 * (horizontal below 22.5°, vertical above 67.5°), suppression with OpenCV's tie rule (strictly
 * greater than the neighbour before, at least the one after; strictly greater than both on
 * diagonals), magnitude 0 outside the image, hysteresis by relaxation until nothing changes.
 */
function cannyReference(img: RgbaImage, lowIn: number, highIn: number): Uint8Array {
  const { width: w, height: h } = img;
  const [low, high] = [Math.floor(Math.min(lowIn, highIn)), Math.floor(Math.max(lowIn, highIn))];
  const px = (x: number, y: number, c: number) => img.data[4 * (Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))) + c];
  const SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]];
  const gx = new Float64Array(w * h);
  const gy = new Float64Array(w * h);
  const mag = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let sx = 0;
        let sy = 0;
        for (let j = -1; j <= 1; j++) {
          for (let i = -1; i <= 1; i++) {
            sx += SOBEL_X[j + 1][i + 1] * px(x + i, y + j, c);
            sy += SOBEL_X[i + 1][j + 1] * px(x + i, y + j, c);
          }
        }
        if (Math.abs(sx) + Math.abs(sy) > mag[y * w + x] || c === 0) {
          mag[y * w + x] = Math.abs(sx) + Math.abs(sy);
          gx[y * w + x] = sx;
          gy[y * w + x] = sy;
        }
      }
    }
  }
  const m = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : mag[y * w + x]);
  const tan22 = Math.tan(Math.PI / 8);
  const tan67 = Math.tan((3 * Math.PI) / 8);
  const kept = new Uint8Array(w * h);
  const edge = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = m(x, y);
      if (v <= low) continue;
      const ratio = Math.abs(gy[y * w + x]) / Math.abs(gx[y * w + x]);
      let ok: boolean;
      if (ratio < tan22) ok = v > m(x - 1, y) && v >= m(x + 1, y);
      else if (ratio > tan67) ok = v > m(x, y - 1) && v >= m(x, y + 1);
      else if (gx[y * w + x] * gy[y * w + x] > 0) ok = v > m(x - 1, y - 1) && v > m(x + 1, y + 1);
      else ok = v > m(x + 1, y - 1) && v > m(x - 1, y + 1);
      kept[y * w + x] = ok ? 1 : 0;
      edge[y * w + x] = ok && v > high ? 1 : 0;
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!kept[y * w + x] || edge[y * w + x]) continue;
        for (let j = -1; j <= 1; j++) {
          for (let i = -1; i <= 1; i++) {
            const nx = x + i;
            const ny = y + j;
            if (nx >= 0 && ny >= 0 && nx < w && ny < h && edge[ny * w + nx] && !edge[y * w + x]) {
              edge[y * w + x] = 1;
              changed = true;
            }
          }
        }
      }
    }
  }
  return edge.map((e) => e * 255);
}

describe('canny', () => {
  it('matches the reference exactly on random, pattern and shape images, 1x1 to 40x40', () => {
    for (const [w, h] of SIZES) {
      for (const img of [randomImage(w, h, w * 31 + h), pattern(w, h), shapes(w, h)]) {
        for (const [low, high] of [[40, 200], [100, 200], [10, 30], [0, 0], [300, 120], [55.9, 140.2]]) {
          const got = canny(img, { low, high });
          expect(channel(got), `${w}x${h} low ${low} high ${high}`).toEqual(cannyReference(img, low, high));
          expectGrayOpaque(got);
        }
      }
    }
  });

  it('a filled square becomes its outline', () => {
    // A white 7x6 block at x 4–10, y 4–9 on black. Across a step both pixels have the same
    // magnitude; the tie rule keeps the first of the pair in scan order, so the left and top
    // edges fall just outside the block and the right and bottom edges on its last pixels.
    const w = 16;
    const h = 14;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) data.set(x >= 4 && x <= 10 && y >= 4 && y <= 9 ? [255, 255, 255, 255] : [0, 0, 0, 255], 4 * (y * w + x));
    }
    const edges = channel(canny({ width: w, height: h, data }));
    const picture = Array.from({ length: h }, (_, y) => Array.from(edges.subarray(y * w, y * w + w), (v) => (v ? '#' : '.')).join(''));
    // Identical to cv2.Canny on the same image (the corners are cut diagonally).
    expect(picture).toEqual([
      '................',
      '................',
      '................',
      '.....#####......',
      '....#.....#.....',
      '...#......#.....',
      '...#......#.....',
      '...#......#.....',
      '...#......#.....',
      '....#######.....',
      '................',
      '................',
      '................',
      '................',
    ]);
  });

  it('is bit-exact with cv2.Canny on the RGB image', () => {
    for (const c of OFFICIAL.filter((c) => c.op === 'canny')) {
      expect(sha(channel(canny(pattern(c.w, c.h), { low: c.low, high: c.high }))), `${c.w}x${c.h} ${c.low}/${c.high}`).toBe(c.sha);
    }
  });

  it('validates its options', () => {
    const img = randomImage(4, 4, 1);
    expect(() => canny(img, { low: -1 })).toThrow(/canny: low must be ≥ 0, got -1/);
    expect(() => canny(img, { high: Number.NaN })).toThrow(/canny: high must be a finite number/);
    expect(() => canny(img, { low: '40' as unknown as number })).toThrow(/canny: low must be a finite number, got "40"/);
    expect(() => canny(img, { lowThreshold: 3 } as never)).toThrow(/canny: unknown option "lowThreshold"; known: low, high/);
    expect(() => canny({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow(/must hold 2x2x4 = 16 bytes/);
  });
});

// ---------------------------------------------------------------------------------------------
// Grayscale

describe('grayscale', () => {
  // The exact luma (2125 R + 7154 G + 721 B) / 10000 truncated; scikit-image computes it in
  // float64 from values / 255, which can land just below an integer and truncate one lower.
  it('is within one level of the exact Rec. 709 luma, and exact where it is not an integer', () => {
    for (const [w, h] of SIZES) {
      for (const img of [randomImage(w, h, w + h * 17), pattern(w, h), shapes(w, h)]) {
        const got = grayscale(img);
        expectGrayOpaque(got);
        for (let i = 0; i < w * h; i++) {
          const exact = 2125 * img.data[4 * i] + 7154 * img.data[4 * i + 1] + 721 * img.data[4 * i + 2];
          const floor = Math.floor(exact / 10000);
          if (exact % 10000 === 0) expect([floor, floor - 1]).toContain(got.data[4 * i]);
          else expect(got.data[4 * i]).toBe(floor);
        }
      }
    }
  });

  it('is bit-exact with the official (rgb2gray(img) * 255).astype(uint8)', () => {
    for (const c of OFFICIAL.filter((c) => c.op === 'grayscale')) expect(sha(channel(grayscale(pattern(c.w, c.h))))).toBe(c.sha);
    const bw = { width: 2, height: 1, data: Uint8Array.from([255, 255, 255, 7, 0, 0, 0, 255]) };
    expect(channel(grayscale(bw))).toEqual(Uint8Array.from([255, 0]));
    expect(() => grayscale(bw, { strength: 1 } as never)).toThrow(/grayscale: unknown option "strength"; known: none/);
  });
});

// ---------------------------------------------------------------------------------------------
// Blur

/** BORDER_REFLECT_101 as a periodic reflection: period 2(n − 1), second half mirrored. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const p = ((i % period) + period) % period;
  return p < n ? p : period - p;
}

/** The 2-D convolution with the outer product of the 8-bit kernel, summed directly in float64. */
function blurReference(img: RgbaImage, k: Int32Array): Uint8Array {
  const { width: w, height: h } = img;
  const r = (k.length - 1) / 2;
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = -r; j <= r; j++) {
          for (let i = -r; i <= r; i++) sum += (k[j + r] * k[i + r] * img.data[4 * (mirror(y + j, h) * w + mirror(x + i, w)) + c]) / 65536;
        }
        out[4 * (y * w + x) + c] = Math.floor(sum + 0.5); // exact: the sum is a multiple of 2^-16
      }
      out[4 * (y * w + x) + 3] = 255;
    }
  }
  return out;
}

describe('blur', () => {
  it('uses OpenCV’s kernels: binomial for small sizes with sigma 0, sampled Gaussians otherwise, 8 fraction bits', () => {
    expect([...gaussianKernel8(1, 0)]).toEqual([256]);
    expect([...gaussianKernel8(3, 0)]).toEqual([64, 128, 64]);
    expect([...gaussianKernel8(5, 0)]).toEqual([16, 64, 96, 64, 16]);
    expect([...gaussianKernel8(7, 0)]).toEqual([8, 28, 56, 72, 56, 28, 8]);
    for (const [size, sigma] of [[9, 0], [21, 0], [51, 4], [15, 2.5], [101, 4], [3, 0.3], [255, 60]]) {
      const s = sigma > 0 ? sigma : 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
      const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * s * s)));
      const total = g.reduce((a, b) => a + b, 0);
      const weights = gaussianWeights(size, sigma);
      const k = gaussianKernel8(size, sigma);
      expect(k.reduce((a, b) => a + b, 0)).toBe(256);
      for (let i = 0; i < size; i++) {
        expect(weights[i]).toBeCloseTo(g[i] / total, 14);
        expect(k[i]).toBe(k[size - 1 - i]);
        expect(Math.abs(k[i] / 256 - g[i] / total)).toBeLessThanOrEqual(1 / 256); // error diffusion keeps each tap within one step
      }
    }
  });

  it('matches the direct 2-D convolution exactly, borders reflected, kernels larger than the image', () => {
    for (const [w, h] of SIZES) {
      for (const img of [randomImage(w, h, 5 * w + h), shapes(w, h)]) {
        for (const [kernel, sigma] of [[1, 0], [3, 0], [5, 0], [9, 0], [51, 4], [15, 2.5]]) {
          expectBytes(blur(img, { kernel, sigma }).data, blurReference(img, gaussianKernel8(kernel, sigma)), `${w}x${h} k ${kernel} sigma ${sigma}`);
        }
      }
    }
  });

  it('is bit-exact with cv2.GaussianBlur(img, (k, k), sigma); the default is the official demo’s (51, sigma 4)', () => {
    for (const c of OFFICIAL.filter((c) => c.op === 'blur')) {
      expect(sha(rgbOf(blur(pattern(c.w, c.h), { kernel: c.kernel, sigma: c.sigma }))), `${c.w}x${c.h} k ${c.kernel} sigma ${c.sigma}`).toBe(c.sha);
    }
    const img = pattern(16, 12);
    expect(blur(img).data).toEqual(blur(img, { kernel: 51, sigma: 4 }).data);
  });

  it('validates its options', () => {
    const img = randomImage(3, 3, 2);
    expect(() => blur(img, { kernel: 4 })).toThrow(/blur: kernel must be odd, got 4/);
    expect(() => blur(img, { kernel: 2.5 })).toThrow(/blur: kernel must be an integer/);
    expect(() => blur(img, { kernel: -1 })).toThrow(/blur: kernel must be odd/);
    expect(() => blur(img, { kernel: 257 })).toThrow(/blur: kernel must be ≤ 255/);
    expect(() => blur(img, { sigma: -2 })).toThrow(/blur: sigma must be ≥ 0/);
  });
});

// ---------------------------------------------------------------------------------------------
// Outpainting and inpainting

/** Pixel kept iff inside [x0, x1) x [y0, y1); masked pixels black; alpha 255. */
function maskReference(img: RgbaImage, inside: (x: number, y: number) => boolean, keepInside: boolean): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = 4 * (y * img.width + x);
      if (inside(x, y) === keepInside) out.set(img.data.subarray(o, o + 3), o);
      out[o + 3] = 255;
    }
  }
  return out;
}

describe('outpaint', () => {
  it('blacks out border bands of round(fraction · side) pixels', () => {
    for (const [w, h] of SIZES) {
      const img = randomImage(w, h, w * 3 + h);
      for (const o of [{}, { top: 0, bottom: 0, left: 0, right: 0 }, { top: 0.5, bottom: 0.1, left: 0, right: 0.75 }, { top: 0.3 }]) {
        const f = { top: 0.25, bottom: 0.25, left: 0.25, right: 0.25, ...o };
        const band = (fraction: number, side: number) => Math.round(fraction * side);
        const inside = (x: number, y: number) => y >= band(f.top, h) && y < h - band(f.bottom, h) && x >= band(f.left, w) && x < w - band(f.right, w);
        expect(outpaint(img, o).data, `${w}x${h} ${JSON.stringify(o)}`).toEqual(maskReference(img, inside, true));
      }
    }
  });

  it('defaults equal the official Outpainter with its 50% sliders on a 512x512 image', () => {
    const img = randomImage(512, 512, 9);
    // Official: h_new = int(h / 100 * 50); keep rows and columns [(h − h_new) // 2, (h + h_new) // 2).
    const inside = (x: number, y: number) => y >= 128 && y < 384 && x >= 128 && x < 384;
    expectBytes(outpaint(img).data, maskReference(img, inside, true));
  });

  it('validates its options', () => {
    const img = randomImage(8, 8, 3);
    expect(() => outpaint(img, { top: 1 })).toThrow(/outpainting: top must be < 1, got 1/);
    expect(() => outpaint(img, { left: -0.1 })).toThrow(/outpainting: left must be ≥ 0/);
    expect(() => outpaint(img, { top: 0.6, bottom: 0.4 })).toThrow(/outpainting: top \+ bottom must be < 1/);
    expect(() => outpaint(img, { width: 3 } as never)).toThrow(/outpainting: unknown option "width"/);
  });
});

describe('inpaint', () => {
  it('blacks out the rectangle, in fractions or pixels, clipped to the image', () => {
    for (const [w, h] of SIZES) {
      const img = shapes(w, h);
      const fr = { x: 0.1, y: 0.5, width: 0.6, height: 0.7 };
      const X0 = Math.round(0.1 * w);
      const X1 = Math.round(0.7 * w);
      const Y0 = Math.round(0.5 * h);
      const Y1 = Math.min(h, Math.round(1.2 * h));
      expect(inpaint(img, fr).data).toEqual(maskReference(img, (x, y) => x >= X0 && x < X1 && y >= Y0 && y < Y1, false));
      const px = { x: 1, y: 0, width: 3, height: 100, units: 'pixel' as const };
      expect(inpaint(img, px).data).toEqual(maskReference(img, (x, y) => x >= 1 && x < 4 && y < 100, false));
    }
  });

  it('defaults equal the official Inpainter with its four 50% sliders on a 512x512 image', () => {
    const img = randomImage(512, 512, 4);
    // Official: rows [(h − h_new) // 2, (h + h_new_1) // 2) = [128, 384) set to 0, same for columns.
    expectBytes(inpaint(img).data, maskReference(img, (x, y) => y >= 128 && y < 384 && x >= 128 && x < 384, false));
    expectBytes(img.data, randomImage(512, 512, 4).data); // the input is not changed
  });

  it('validates its options', () => {
    const img = randomImage(8, 8, 3);
    expect(() => inpaint(img, { x: 1.5 })).toThrow(/inpainting: x must be ≤ 1, got 1.5/);
    expect(() => inpaint(img, { units: 'pixel', x: 1, y: 1, width: 2 })).toThrow(/inpainting: height is required with units 'pixel'/);
    expect(() => inpaint(img, { units: 'pixel', x: 1.5, y: 1, width: 2, height: 2 })).toThrow(/inpainting: x must be an integer/);
    expect(() => inpaint(img, { units: 'px' as never })).toThrow(/units must be 'fraction' or 'pixel', got "px"/);
  });
});

// ---------------------------------------------------------------------------------------------
// Bounding boxes

describe('bbox', () => {
  /** Each pixel takes the colour of the smallest box covering it (the later one on equal areas). */
  function bboxReference(w: number, h: number, boxes: { x0: number; y0: number; x1: number; y1: number; color: readonly number[] }[]): Uint8Array {
    const out = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let best: (typeof boxes)[number] | undefined;
        let bestArea = Infinity;
        for (const b of boxes) {
          const area = (Math.min(b.x1, w) - Math.max(b.x0, 0)) * (Math.min(b.y1, h) - Math.max(b.y0, 0));
          if (x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 && area <= bestArea) {
            best = b;
            bestArea = area;
          }
        }
        out.set([...(best ? best.color : [0, 0, 0]), 255], 4 * (y * w + x));
      }
    }
    return out;
  }

  it('fills boxes with their COCO colour on black, small boxes on top of large ones', () => {
    const boxes = [
      { x0: 0.1, y0: 0.1, x1: 0.9, y1: 0.8, label: 'person' },
      { x0: 0.5, y0: 0.0, x1: 1.2, y1: 0.5, label: 'Dog' },
      { x0: 0.2, y0: 0.2, x1: 0.3, y1: 0.9 },
      { x0: 0.3, y0: 0.3, x1: 0.3, y1: 0.6, label: 'cat' }, // empty
    ];
    for (const [w, h] of SIZES) {
      const px = boxes.map((b) => ({
        x0: Math.round(b.x0 * w),
        y0: Math.round(b.y0 * h),
        x1: Math.round(b.x1 * w),
        y1: Math.round(b.y1 * h),
        color: b.label ? COCO_COLORS[b.label.toLowerCase()] : [255, 255, 255],
      }));
      expect(bbox(w, h, { boxes }).data, `${w}x${h}`).toEqual(bboxReference(w, h, px));
    }
    expect(COCO_COLORS.person).toEqual([255, 0, 0]);
    expect(COCO_COLORS['traffic light']).toEqual([128, 128, 128]);
    expect(Object.keys(COCO_COLORS)).toHaveLength(80);
  });

  it('takes JSON text and pixel units', () => {
    const json = '[{"x0": 2, "y0": 1, "x1": 5, "y1": 3, "label": "car"}]';
    const out = bbox(6, 4, { boxes: json, units: 'pixel' });
    expect(out.data).toEqual(bboxReference(6, 4, [{ x0: 2, y0: 1, x1: 5, y1: 3, color: [0, 0, 255] }]));
    expect(bbox(3, 2).data).toEqual(bboxReference(3, 2, []));
  });

  it('rejects malformed boxes with the box named', () => {
    expect(() => parseBoxes('[{"x0": 1')).toThrow(/bbox: boxes is not valid JSON/);
    expect(() => parseBoxes({})).toThrow(/bbox: boxes must be a list/);
    expect(() => parseBoxes([{ x0: 0, y0: 0, x1: 1 }])).toThrow(/bbox: boxes\[0\]\.y1 must be a finite number, got undefined/);
    expect(() => parseBoxes([{ x0: 0, y0: 0, x1: 1, y1: 1 }, { x0: 0.5, y0: 0, x1: 0.2, y1: 1 }])).toThrow(/boxes\[1\]: need x0 ≤ x1/);
    expect(() => parseBoxes([{ x0: 0, y0: 0, x1: 1, y1: 1, label: 'unicorn' }])).toThrow(/boxes\[0\]\.label "unicorn" is not an MS-COCO class; known: person, bicycle/);
    expect(() => parseBoxes([{ x0: 0, y0: 0, x1: 1, y1: 1, colour: 'red' }])).toThrow(/boxes\[0\]: unknown option "colour"/);
    expect(() => bbox(0, 5)).toThrow(/positive integers/);
  });
});

// ---------------------------------------------------------------------------------------------
// Registry and docs

describe('CONDITIONS registry', () => {
  it('has every preprocessor a task names, each running with its defaults on small and odd images', () => {
    for (const task of TASK_INFO) if (task.preprocessor) expect(CONDITIONS[task.preprocessor], task.name).toBeDefined();
    for (const [name, p] of Object.entries(CONDITIONS)) {
      expect(p.description.length, name).toBeGreaterThan(20);
      for (const [w, h] of [[1, 1], [9, 7]]) {
        const img = pattern(w, h);
        const before = Uint8Array.from(img.data);
        const out = p.run(img, { ...p.defaults });
        expect(out.width).toBe(w);
        expect(out.height).toBe(h);
        expect(out.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
        expect(img.data).toEqual(before);
        expect(p.run(img, {}).data).toEqual(out.data);
      }
      expect(() => p.run(pattern(4, 4), { nonsense: 1 }), name).toThrow(/unknown option "nonsense"/);
    }
    expect(CONDITIONS.canny.run(pattern(16, 12), { low: 20, high: 60 }).data).toEqual(canny(pattern(16, 12), { low: 20, high: 60 }).data);
  });

  it('documents every user-supplied map', () => {
    for (const [name, doc] of Object.entries(USER_MAPS)) {
      expect(doc.docs.length, name).toBeGreaterThan(50);
      expect(['bilinear', 'nearest']).toContain(doc.resample);
    }
    expect(USER_MAPS.seg.resample).toBe('nearest');
    expect(USER_MAPS.openpose.resample).toBe('nearest');
  });
});
