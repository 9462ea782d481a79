import type { DType } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid, storageType, type KernelType } from '../kernel.ts';
import { broadcastShapes, broadcastStrides, sameShape } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs, checkSameDType } from './check.ts';

/** Unary functions of `shaders/unary.wgsl`, by their `OP` code. */
const UNARY = {
  neg: 0, exp: 1, sqrt: 2, rsqrt: 3, silu: 4, gelu: 5, quickGelu: 6, tanh: 7, sigmoid: 8, identity: 9,
  addScalar: 10, subScalar: 11, rsubScalar: 12, mulScalar: 13, divScalar: 14, rdivScalar: 15,
  maxScalar: 16, minScalar: 17,
} as const;
export type UnaryOp = keyof typeof UNARY;

/** Binary functions of `shaders/binary.wgsl`, by their `OP` code. */
const BINARY = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 } as const;
export type BinaryOp = keyof typeof BINARY;

const MAX_RANK = 8;

/**
 * Launch shape of the elementwise kernels: invocations per workgroup and indices per invocation
 * (lanes stay on neighbouring indices), for the scalar path (one element per index) and the
 * vec4 path (4 consecutive elements per index, one vector load per operand).
 *
 * The vec4 shape was chosen on lavapipe (2 cores), timing the launch alone, configurations
 * interleaved, median of 11 samples in ms (scalar path 64 x 4 for comparison):
 *
 *   WG x ELEMS            scalar   32x4   128x4  256x2  256x4  256x8  512x4
 *   add 1x320x64x64 f32     4.97   2.39   2.67   2.82   2.34   3.09   2.40
 *   add 1x320x64x64 f16     5.07   2.72   2.79   3.26   2.64   3.32   2.52
 *   geglu 1x1024x2560 f32  12.33   6.87   6.80   6.98   6.35   5.85   6.20
 *   gelu 1x1024x1280 f32    7.27   4.52   4.89   4.93   4.79   4.20   4.88
 *
 * SiLU 1x1280x16x16 was 0.43-0.57 ms (f32) and 0.57-0.64 ms (f16) for every vec4 shape with
 * ELEMS ≥ 4 (scalar 1.06, 1.15). One vec4 per invocation (tfjs's shape) was slower, in other
 * such runs: add f32 3.78 ms at 128 x 1, 4.00 at 64 x 1, 2.39 at 256 x 4; SiLU f32 0.92, 0.81, 0.51.
 */
const SCALAR = { WG: 64, ELEMS: 4 };
const VEC4 = { WG: 256, ELEMS: 4 };

/**
 * How an elementwise kernel covers `elements` outputs: on the vec4 path (4 consecutive elements
 * per index: `vec4<dtype>` stored, `vec4f` computed) or the scalar one. Gives the shaders' type
 * aliases for storage dtypes `dtypes`, the launch constants, the element width per index, and the
 * workgroups.
 */
function launchShape<K extends string>(dtypes: Record<K, DType>, elements: number, vec: boolean) {
  const types = { F: vec ? 'vec4<f32>' : 'f32' } as Record<K | 'F', KernelType>;
  for (const k in dtypes) types[k] = storageType(dtypes[k], vec);
  const width = vec ? 4 : 1;
  const { WG, ELEMS } = vec ? VEC4 : SCALAR;
  return { types, WG, ELEMS, width, workgroups: grid(Math.ceil(elements / width / (WG * ELEMS))) };
}

/** Applies a unary function elementwise; `s` is the scalar operand of the scalar ops. */
export function unary(op: UnaryOp, x: Tensor, s = 0, outDType: DType = x.dtype): Tensor {
  checkInputs(op, [x], 'float');
  return launchUnary(op, x, empty(x.device, x.shape, outDType), s, 0);
}

/**
 * Gated activation over the last axis: `x` `[..., 2·n]` → `[..., n]` with
 * y = x[..., :n] · f(x[..., n:]) in one pass (GEGLU is `gated('gelu', x)`).
 */
export function gated(op: UnaryOp, x: Tensor): Tensor {
  checkInputs(`gated ${op}`, [x], 'float');
  const last = x.rank === 0 ? 1 : x.shape[x.rank - 1];
  if (last % 2 !== 0) throw new ShapeError(`gated ${op}: the last axis of x ${fmt(x.shape)} must have an even length (value and gate halves)`);
  return launchUnary(op, x, empty(x.device, [...x.shape.slice(0, -1), last / 2], x.dtype), 0, last / 2);
}

/** GEGLU: x[..., :n] · gelu(x[..., n:]) for `x` `[..., 2·n]` (Stable Diffusion's feed-forward gate). */
export const geglu = (x: Tensor): Tensor => gated('gelu', x);

/**
 * Runs shaders/unary.wgsl over y; `inner` > 0 selects the gated form. Takes the vec4 path when
 * whole vec4s tile y (and each gate half).
 */
function launchUnary(op: UnaryOp, x: Tensor, y: Tensor, s: number, inner: number): Tensor {
  if (y.size === 0) return y;
  const { types, WG, ELEMS, width, workgroups } = launchShape({ X: x.dtype, Y: y.dtype }, y.size, y.size % 4 === 0 && inner % 4 === 0);
  x.device.run({
    shader: 'unary',
    types,
    consts: { OP: UNARY[op], WG, ELEMS, GATED: inner > 0 },
    inputs: [x],
    outputs: [y],
    params: new Params().u32(y.size / width).f32(s).u32(inner / width).bytes(),
    workgroups,
    cost: y.size * (inner > 0 ? 60 : 40),
  });
  return y;
}

/**
 * Output sizes up to which the broadcast path unravels indices with f32 arithmetic
 * (shaders/binary.wgsl's `divmod`, exact below 2^23), not integer division: on lavapipe 1.9x
 * faster for [2, 320, 32, 32] + [2, 320, 1, 1] (f32, paired).
 */
const F32_INDEX_LIMIT = 2 ** 23;

/** Applies a binary function elementwise with NumPy broadcasting. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  checkInputs(op, [a, b], 'float');
  checkSameDType(op, [a, b]);
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (shape.length > MAX_RANK) throw new ShapeError(`${op}: rank ${shape.length} exceeds ${MAX_RANK}`);
  const out = empty(a.device, shape, a.dtype);
  if (out.size === 0) return out;
  const flat = sameShape(a.shape, shape) && sameShape(b.shape, shape);
  // Broadcasting reads each input through strides, one element at a time.
  const { types, WG, ELEMS, width, workgroups } = launchShape({ A: a.dtype }, out.size, flat && out.size % 4 === 0);
  a.device.run({
    shader: 'binary',
    types,
    consts: { OP: BINARY[op], BROADCAST: !flat, RANK: flat ? 0 : shape.length, WG, ELEMS, F32_INDEX: !flat && out.size <= F32_INDEX_LIMIT },
    inputs: [a, b],
    outputs: [out],
    params: new Params()
      .u32(out.size / width, 0, 0, 0)
      .u32Array(shape, MAX_RANK)
      .u32Array(broadcastStrides(a.shape, shape), MAX_RANK)
      .u32Array(broadcastStrides(b.shape, shape), MAX_RANK)
      .bytes(),
    workgroups,
    cost: out.size * 50,
  });
  return out;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('minimum', a, b);

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** x·sigmoid(x). */
export const silu = (x: Tensor): Tensor => unary('silu', x);
/** Exact GELU, x/2·(1 + erf(x/√2)) (PyTorch's default, not the tanh approximation). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
/** CLIP's x·sigmoid(1.702x). */
export const quickGelu = (x: Tensor): Tensor => unary('quickGelu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);

export const addScalar = (x: Tensor, s: number): Tensor => unary('addScalar', x, s);
export const subScalar = (x: Tensor, s: number): Tensor => unary('subScalar', x, s);
/** s − x. */
export const rsubScalar = (x: Tensor, s: number): Tensor => unary('rsubScalar', x, s);
export const mulScalar = (x: Tensor, s: number): Tensor => unary('mulScalar', x, s);
export const divScalar = (x: Tensor, s: number): Tensor => unary('divScalar', x, s);
/** s / x. */
export const rdivScalar = (x: Tensor, s: number): Tensor => unary('rdivScalar', x, s);
export const maxScalar = (x: Tensor, s: number): Tensor => unary('maxScalar', x, s);
export const minScalar = (x: Tensor, s: number): Tensor => unary('minScalar', x, s);
/** Clamps to [lo, hi]. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  return x.device.scope(() => minScalar(maxScalar(x, lo), hi));
}

/** Converts between float32 and float16 storage (a copy when the dtype already matches). */
export function cast(x: Tensor, dtype: 'f32' | 'f16'): Tensor {
  return unary('identity', x, 0, dtype);
}
