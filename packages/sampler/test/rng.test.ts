import { createDevice } from '@unicontrol/core';
import { describe, expect, it } from 'vitest';
import { checkSeed, NoiseGenerator, noiseTensor, philox4x32 } from '../src/index.ts';

const MASK = 0xffffffffn;

/** Philox4x32-10 again, in BigInt arithmetic (full 64-bit products), independent of the library's limb code. */
function philoxBig(ctr: readonly bigint[], key: readonly bigint[]): bigint[] {
  let [c0, c1, c2, c3] = ctr;
  let [k0, k1] = key;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9n) & MASK;
      k1 = (k1 + 0xbb67ae85n) & MASK;
    }
    const p0 = 0xd2511f53n * c0;
    const p1 = 0xcd9e8d57n * c2;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1 ^ k0, p1 & MASK, (p0 >> 32n) ^ c3 ^ k1, p0 & MASK];
  }
  return [c0, c1, c2, c3];
}

/** The documented stream: block b under key (seed lo, seed hi), uniforms (w + ½)/2^32, Box–Muller, float32. */
function referenceNormals(seed: bigint, count: number): number[] {
  const out: number[] = [];
  for (let b = 0n; out.length < count; b++) {
    const u = philoxBig([b & MASK, b >> 32n, 0n, 0n], [seed & MASK, seed >> 32n]).map((w) => (Number(w) + 0.5) / 2 ** 32);
    for (const [a, c] of [[u[0], u[1]], [u[2], u[3]]]) {
      const r = Math.sqrt(-2 * Math.log(a));
      out.push(Math.fround(r * Math.cos(2 * Math.PI * c)), Math.fround(r * Math.sin(2 * Math.PI * c)));
    }
  }
  return out.slice(0, count);
}

describe('Philox4x32-10', () => {
  // Random123's published known-answer vectors (tests/kat_vectors).
  const KAT: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  it('matches the known-answer vectors', () => {
    for (const [c, k, want] of KAT) {
      expect([...philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], new Uint32Array(4))]).toEqual(want);
      expect(philoxBig(c.map(BigInt), k.map(BigInt)).map(Number)).toEqual(want);
    }
  });
});

describe('NoiseGenerator', () => {
  it('gives the documented stream for fixed seeds', () => {
    for (const seed of [0n, 1n, 42n, 2n ** 53n - 1n, 2n ** 64n - 1n, 0x0123456789abcdefn]) {
      const gen = new NoiseGenerator(seed);
      expect([...gen.normal(23)]).toEqual(referenceNormals(seed, 23));
    }
    // Pinned values (seed 42): changing the algorithm changes every user's images.
    expect([...new NoiseGenerator(42).normal(4)]).toEqual([-0.9701898097991943, 0.19401895999908447, -1.2356207370758057, 1.9239267110824585]);
    expect([...new NoiseGenerator(0).normal(4)]).toEqual([0.991137683391571, -0.9246625900268555, -0.6176089644432068, -0.48206859827041626]);
  });

  it('accepts a number and the equal bigint alike', () => {
    expect(new NoiseGenerator(123456789).normal(9)).toEqual(new NoiseGenerator(123456789n).normal(9));
    expect(new NoiseGenerator(2 ** 53 - 1).normal(9)).toEqual(new NoiseGenerator(2n ** 53n - 1n).normal(9));
  });

  it('is a stream: split draws equal one draw', () => {
    const a = new NoiseGenerator(7);
    const parts = [a.normal(3), a.normal(0), a.normal(6), a.normal(11)];
    expect(a.position).toBe(20);
    const joined = Float32Array.from(parts.flatMap((p) => [...p]));
    expect(joined).toEqual(new NoiseGenerator(7).normal(20));
  });

  it('has mean 0 and standard deviation 1 over 1e6 draws', () => {
    const z = new NoiseGenerator(2024).normal(1_000_000);
    let sum = 0;
    let sq = 0;
    let tail = 0;
    for (const v of z) {
      sum += v;
      sq += v * v;
      if (Math.abs(v) > 2) tail++;
    }
    const mean = sum / z.length;
    const std = Math.sqrt(sq / z.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.005); // 5 standard errors
    expect(Math.abs(std - 1)).toBeLessThan(0.005);
    expect(Math.abs(tail / z.length - 0.0455)).toBeLessThan(0.002); // P(|z| > 2) = 4.55 %
  });

  it('gives different streams for different seeds', () => {
    const a = new NoiseGenerator(1).normal(64);
    for (const seed of [2, 2n ** 32n + 1n, 2n ** 63n]) {
      const b = new NoiseGenerator(seed).normal(64);
      expect(b.filter((v, i) => v === a[i]).length).toBe(0);
    }
  });

  it('rejects seeds that are not integers in [0, 2^64), naming them', () => {
    for (const bad of [-1, 1.5, NaN, Infinity, -1n, 2n ** 64n]) {
      expect(() => new NoiseGenerator(bad)).toThrow(RangeError);
      expect(() => new NoiseGenerator(bad)).toThrow(typeof bad === 'bigint' ? `${bad}n` : String(bad));
    }
    expect(() => new NoiseGenerator(2 ** 60)).toThrow(/bigint/);
    expect(() => checkSeed('3' as unknown as number)).toThrow(RangeError);
    expect(checkSeed(2n ** 64n - 1n)).toBe(2n ** 64n - 1n);
  });
});

describe('noiseTensor', () => {
  it('uploads the next numbers of the stream in row-major order', async () => {
    const device = await createDevice();
    const t = noiseTensor(device, [2, 3, 5], new NoiseGenerator(9));
    expect(t.shape).toEqual([2, 3, 5]);
    expect(await t.read()).toEqual(new NoiseGenerator(9).normal(30));
    t.dispose();
    device.destroy();
  });
});
