// The benchmark's cases: Stable Diffusion 1.5 shapes (512 px image → 64x64 latents, 77 text
// tokens), each as our op and as the same computation in TensorFlow.js. Both sides get the same
// input values; layouts tfjs needs (NHWC, HWIO, heads split out) are made once, outside the timed
// region, and each side's output is brought back to our layout for the cross-check.

import * as ops from '@unicontrol/core';
import type { Device, Tensor } from '@unicontrol/core';
import type { Tensor4D } from '@tensorflow/tfjs-core';
import type { TF, TFTensor } from './tfjs.ts';

/** How our side of a case runs: which kernel variant (undefined = the op's default) and storage dtype. */
export interface OursOptions {
  variant?: string;
  dtype: 'f32' | 'f16';
}

/** One side of a case, ready to run: inputs uploaded. */
export interface Prepared {
  /** Records one repetition (our side) or runs it (tfjs side, inside `tf.tidy`). */
  run(): unknown;
  /** Runs once and reads the output back in our layout (for the cross-check, not timed). */
  output(): Promise<Float32Array>;
  dispose(): void;
}

export interface BenchCase {
  /** Our op's name: selects cases with `--op` and kernel variants in `VARIANTS`. */
  op: string;
  /** The shape as printed in the table. */
  shape: string;
  /** Floating-point operations of one run (compute-bound ops). */
  flops?: number;
  /** Elements one run must read plus write at least (memory-bound ops; × dtype size = bytes). */
  moved?: number;
  ours(device: Device, opts: OursOptions): Prepared;
  tfjs(tf: TF): Prepared;
}

// ---- inputs ----

/** Uniform values in [-scale, scale) from a fixed seed (xorshift32), so runs see the same data. */
function randomData(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

interface Input {
  shape: number[];
  data: Float32Array;
}

function input(shape: number[], seed: number, scale = 1): Input {
  return { shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed, scale) };
}

/** Makes a case's inputs on first use and keeps them for its other side. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/** Uploads inputs to our device (in `dtype`) and wraps one op call as a `Prepared`. */
function oursSide(device: Device, dtype: OursOptions['dtype'], inputs: () => Input[], call: (xs: Tensor[]) => Tensor): Prepared {
  const xs = inputs().map((i) => ops.tensor(device, i.data, i.shape, { dtype }));
  return {
    run: () => call(xs),
    async output() {
      const y = call(xs);
      const data = (await y.read()) as Float32Array;
      y.dispose();
      return data;
    },
    dispose: () => xs.forEach((x) => x.dispose()),
  };
}

/**
 * Uploads inputs to tfjs, converts them to tfjs's layout once (`prepare`), and wraps the
 * computation; `toOurs` maps its output back to our layout for the cross-check.
 */
function tfjsSide(
  tf: TF,
  inputs: () => Input[],
  prepare: (xs: TFTensor[]) => TFTensor[],
  call: (xs: TFTensor[]) => TFTensor,
  toOurs: (y: TFTensor) => TFTensor = (y) => y,
): Prepared {
  const xs = tf.tidy(() => prepare(inputs().map((i) => tf.tensor(i.data, i.shape))));
  return {
    run: () => call(xs),
    async output() {
      const y = tf.tidy(() => toOurs(call(xs)));
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    },
    dispose: () => xs.forEach((x) => x.dispose()),
  };
}

// ---- the cases ----

/** 2-D convolution, batch 1, `size`x`size` input, square kernel `k`, padding (k-1)/2, with bias. */
function conv(cin: number, cout: number, size: number, k: number, stride = 1): BenchCase {
  const pad = (k - 1) / 2;
  const out = Math.floor((size + 2 * pad - k) / stride) + 1;
  const inputs = lazy(() => [input([1, cin, size, size], 1), input([cout, cin, k, k], 2, 1 / Math.sqrt(cin * k * k)), input([cout], 3)]);
  return {
    op: 'conv2d',
    shape: `${k}x${k}${stride > 1 ? ` s${stride}` : ''} ${cin}→${cout} ${size}x${size}`,
    flops: 2 * cout * out * out * cin * k * k,
    ours: (device, { variant, dtype }) =>
      oursSide(device, dtype, inputs, ([x, w, b]) => ops.conv2d(x, w, { bias: b, stride, padding: pad, variant })),
    tfjs: (tf) =>
      tfjsSide(
        tf,
        inputs,
        // NCHW → NHWC, [O, C, kH, kW] → HWIO [kH, kW, C, O].
        ([x, w, b]) => [tf.transpose(x, [0, 2, 3, 1]), tf.transpose(w, [2, 3, 1, 0]), b],
        ([x, w, b]) =>
          tf.fused.conv2d({
            x: x as Tensor4D,
            filter: w as Tensor4D,
            bias: b,
            strides: stride,
            pad: [[0, 0], [pad, pad], [pad, pad], [0, 0]],
          }),
        (y) => tf.transpose(y, [0, 3, 1, 2]),
      ),
  };
}

/** [M, K] · [K, N]. */
function matmul(m: number, k: number, n: number): BenchCase {
  const inputs = lazy(() => [input([m, k], 4), input([k, n], 5, 1 / Math.sqrt(k))]);
  return {
    op: 'matmul',
    shape: `${m}x${k}x${n}`,
    flops: 2 * m * k * n,
    ours: (device, { variant, dtype }) => oursSide(device, dtype, inputs, ([a, b]) => ops.matmul(a, b, { variant })),
    tfjs: (tf) => tfjsSide(tf, inputs, (xs) => xs, ([a, b]) => tf.matMul(a, b)),
  };
}

/** softmax(q·kᵀ/√d)·v over `heads` heads of size `d`, batch 1. */
function attention(kind: string, lq: number, lk: number, heads: number, d: number): BenchCase {
  const width = heads * d;
  const inputs = lazy(() => [input([1, lq, width], 6), input([1, lk, width], 7), input([1, lk, width], 8)]);
  const scale = 1 / Math.sqrt(d);
  return {
    op: 'attention',
    shape: `${kind} ${heads}h ${lq}x${lk} d${d}`,
    flops: 4 * heads * lq * lk * d,
    ours: (device, { variant, dtype }) => oursSide(device, dtype, inputs, ([q, k, v]) => ops.attention(q, k, v, { heads, scale, variant })),
    tfjs: (tf) =>
      tfjsSide(
        tf,
        inputs,
        // [1, L, heads·d] → [heads, L, d]: the head batch tfjs's batched matMul works on.
        (xs) => xs.map((x) => tf.transpose(tf.reshape(x, [-1, heads, d]), [1, 0, 2])),
        ([q, k, v]) => tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v),
        (y) => tf.reshape(tf.transpose(y, [1, 0, 2]), [1, lq, width]),
      ),
  };
}

/** GroupNorm with per-channel affine on [1, C, H, W]. */
function groupNorm(c: number, size: number, groups: number): BenchCase {
  const inputs = lazy(() => [input([1, c, size, size], 9), input([c], 10), input([c], 11)]);
  const eps = 1e-5;
  const n = c * size * size;
  return {
    op: 'groupNorm',
    shape: `${groups}g 1x${c}x${size}x${size}`,
    moved: 2 * n,
    ours: (device, { variant, dtype }) =>
      oursSide(device, dtype, inputs, ([x, w, b]) => ops.groupNorm(x, { groups, eps, weight: w, bias: b, variant })),
    tfjs: (tf) =>
      tfjsSide(
        tf,
        inputs,
        ([x, w, b]) => [x, tf.reshape(w, [1, c, 1, 1]), tf.reshape(b, [1, c, 1, 1])],
        ([x, w, b]) => {
          const g = tf.reshape(x, [1, groups, n / groups]);
          const { mean, variance } = tf.moments(g, 2, true);
          const normed = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, eps))), [1, c, size, size]);
          return tf.add(tf.mul(normed, w), b);
        },
      ),
  };
}

/** LayerNorm over the last axis of [rows, width], with affine. */
function layerNorm(rows: number, width: number): BenchCase {
  const inputs = lazy(() => [input([rows, width], 12), input([width], 13), input([width], 14)]);
  const eps = 1e-5;
  return {
    op: 'layerNorm',
    shape: `${rows}x${width}`,
    moved: 2 * rows * width,
    ours: (device, { variant, dtype }) => oursSide(device, dtype, inputs, ([x, w, b]) => ops.layerNorm(x, { eps, weight: w, bias: b, variant })),
    tfjs: (tf) =>
      tfjsSide(tf, inputs, (xs) => xs, ([x, w, b]) => {
        const { mean, variance } = tf.moments(x, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
      }),
  };
}

function silu(shape: number[]): BenchCase {
  const inputs = lazy(() => [input(shape, 15, 4)]);
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    op: 'silu',
    shape: shape.join('x'),
    moved: 2 * n,
    ours: (device, { dtype }) => oursSide(device, dtype, inputs, ([x]) => ops.silu(x)),
    tfjs: (tf) => tfjsSide(tf, inputs, (xs) => xs, ([x]) => tf.mul(x, tf.sigmoid(x))),
  };
}

function add(shape: number[]): BenchCase {
  const inputs = lazy(() => [input(shape, 16), input(shape, 17)]);
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    op: 'add',
    shape: shape.join('x'),
    moved: 3 * n,
    ours: (device, { dtype }) => oursSide(device, dtype, inputs, ([a, b]) => ops.add(a, b)),
    tfjs: (tf) => tfjsSide(tf, inputs, (xs) => xs, ([a, b]) => tf.add(a, b)),
  };
}

/** Every case, in table order. */
export function allCases(): BenchCase[] {
  return [
    conv(320, 320, 32, 3),
    conv(640, 640, 16, 3),
    conv(1280, 1280, 8, 3),
    conv(320, 320, 32, 3, 2),
    conv(4, 320, 32, 3),
    conv(320, 320, 32, 1),
    matmul(1024, 320, 1280),
    matmul(77, 768, 320),
    attention('self', 1024, 1024, 8, 40),
    attention('cross', 1024, 77, 8, 40),
    attention('self', 4096, 4096, 8, 40),
    groupNorm(320, 32, 32),
    layerNorm(1024, 320),
    silu([1, 1280, 16, 16]),
    add([1, 320, 64, 64]),
  ];
}
