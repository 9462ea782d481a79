// Seeded standard normal noise that is the same in Node and in browsers.

import { numel, tensor, type Device, type Tensor } from '@unicontrol/core';
import { philox4x32 } from './philox.ts';

const TWO_32 = 2 ** 32;

/** Makes a fresh tensor of standard normal noise of a shape; the sampler disposes it after use. */
export type NoiseSource = (shape: readonly number[]) => Tensor;

/** Checks a seed and returns it as a bigint: an integer 0 ≤ seed < 2^64 (numbers must be ≤ 2^53 − 1). */
export function checkSeed(seed: number | bigint): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new RangeError(`seed must be an integer with 0 ≤ seed < 2^64, got ${seed}n`);
    return seed;
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) {
    throw new RangeError(`seed must be an integer with 0 ≤ seed < 2^64, got ${String(seed)}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not exact as a number (over 2^53 − 1); pass it as a bigint`);
  return BigInt(seed);
}

/**
 * A seeded stream of standard normal float32 numbers z₀, z₁, z₂, …, identical on every platform
 * whose `Math.log`, `Math.cos` and `Math.sin` agree (V8: Node, Chrome, Edge).
 *
 * The algorithm, exactly:
 * - key = (seed mod 2^32, ⌊seed / 2^32⌋) as two uint32 words;
 * - block b (b = 0, 1, …) is Philox4x32-10 of the counter (b mod 2^32, ⌊b / 2^32⌋, 0, 0) under that
 *   key, giving uint32 words w₀…w₃, and uniforms uᵢ = (wᵢ + 0.5) / 2^32 ∈ (0, 1);
 * - Box–Muller in float64: r = √(−2 ln u₀), θ = 2π·u₁ give z₄b = r·cos θ, z₄b₊₁ = r·sin θ; likewise
 *   (u₂, u₃) give z₄b₊₂, z₄b₊₃;
 * - each zₖ is rounded to the nearest float32.
 *
 * `normal(n)` returns the next n numbers of the stream, so any split of the draws into calls gives
 * the same numbers.
 */
export class NoiseGenerator {
  /** The seed, 0 ≤ seed < 2^64. */
  readonly seed: bigint;
  private readonly key0: number;
  private readonly key1: number;
  private next = 0;
  private readonly words = new Uint32Array(4);

  constructor(seed: number | bigint) {
    this.seed = checkSeed(seed);
    this.key0 = Number(this.seed & 0xffffffffn);
    this.key1 = Number(this.seed >> 32n);
  }

  /** Index of the next number in the stream (how many have been drawn). */
  get position(): number {
    return this.next;
  }

  /** The next `n` numbers of the stream. */
  normal(n: number): Float32Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`normal: count must be a non-negative integer, got ${n}`);
    const out = new Float32Array(n);
    const pairs = new Float64Array(4);
    let block = -1;
    for (let i = 0; i < n; i++) {
      const k = this.next + i;
      const b = Math.floor(k / 4);
      if (b !== block) {
        this.block(b, pairs);
        block = b;
      }
      out[i] = pairs[k % 4];
    }
    this.next += n;
    return out;
  }

  /** The four normals of block `b` (float64, before rounding). */
  private block(b: number, into: Float64Array): void {
    const w = philox4x32(b % TWO_32, Math.floor(b / TWO_32), 0, 0, this.key0, this.key1, this.words);
    for (let j = 0; j < 4; j += 2) {
      const r = Math.sqrt(-2 * Math.log((w[j] + 0.5) / TWO_32));
      const theta = 2 * Math.PI * ((w[j + 1] + 0.5) / TWO_32);
      into[j] = r * Math.cos(theta);
      into[j + 1] = r * Math.sin(theta);
    }
  }
}

/** The generator's next numel(shape) normals as a float32 tensor of `shape` (e.g. `[batch, 4, h/8, w/8]` latents). */
export function noiseTensor(device: Device, shape: readonly number[], generator: NoiseGenerator): Tensor {
  return tensor(device, generator.normal(numel(shape)), shape);
}

/** A `NoiseSource` drawing from `generator` onto `device`. */
export function noiseSource(device: Device, generator: NoiseGenerator): NoiseSource {
  return (shape) => noiseTensor(device, shape, generator);
}
