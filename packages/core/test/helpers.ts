import { expect } from 'vitest';
import { createDevice, roundToHalf, tensor, type Device, type DType, type Tensor } from '../src/index.ts';
import type { HostTensor } from '../src/reference/host.ts';

let shared: Promise<Device> | undefined;

/** One device per test file, with outputs poisoned (NaN) before every op so unwritten elements fail. */
export function testDevice(): Promise<Device> {
  shared ??= createDevice({ poisonOutputs: true });
  return shared;
}

/**
 * Seed of this run's random inputs: fresh each run (set TEST_SEED to replay one); failures print it.
 */
export const SEED = Number(process.env.TEST_SEED ?? (Date.now() % 2 ** 31));

/** A small seeded generator (mulberry32) with uniform and normal draws. */
export function rng(seed = SEED): { uniform(): number; normal(): number } {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** `n` draws from N(0, scale²), as float32. */
export function randn(n: number, r = rng(), scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

/** A random host tensor (float32 values, so GPU and CPU see the same inputs) and its GPU twin. */
export function randomPair(
  device: Device,
  shape: number[],
  r = rng(),
  opts: { scale?: number; dtype?: DType; map?: (v: number) => number } = {},
): { host: HostTensor; gpu: Tensor } {
  let data = randn(shape.reduce((a, b) => a * b, 1), r, opts.scale ?? 1);
  if (opts.map) data = data.map(opts.map);
  const gpu = tensor(device, data, shape, { dtype: opts.dtype ?? 'f32' });
  // The CPU sees exactly what the GPU stores: float16 rounding applies to both.
  const host: HostTensor = { shape, data: opts.dtype === 'f16' ? roundToHalf(data) : data };
  return { host, gpu };
}

/**
 * Relative error: max |got − want| over max |want| (errors measured against the tensor's scale),
 * or over `floor` when the scale is below it. Any NaN or length mismatch gives Infinity.
 */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-30): number {
  if (got.length !== want.length) return Infinity;
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(g) || Number.isNaN(w)) return Infinity;
    if (g === w) continue; // covers equal infinities
    maxErr = Math.max(maxErr, Math.abs(g - w));
    maxRef = Math.max(maxRef, Math.abs(w));
  }
  for (let i = 0; i < want.length; i++) maxRef = Math.max(maxRef, Math.abs(want[i]));
  return maxErr === 0 ? 0 : maxErr / Math.max(maxRef, floor);
}

/** float16's smallest normal value: below it the format keeps an absolute precision of 2^-24 only. */
const F16_MIN_NORMAL = 2 ** -14;

/** Reads a GPU tensor and checks shape and relative error against a CPU reference. */
export async function expectClose(got: Tensor, want: HostTensor, tol: number, label = ''): Promise<void> {
  expect(got.shape, `${label} shape`).toEqual(want.shape);
  const data = await got.read();
  // A float16 tensor whose values are all subnormal (e.g. one element near 0) is held to its
  // absolute precision, measured against the smallest normal value.
  const err = relError(data, want.data, got.dtype === 'f16' ? F16_MIN_NORMAL : undefined);
  expect(err, `${label} relative error (seed ${SEED})`).toBeLessThanOrEqual(tol);
}
