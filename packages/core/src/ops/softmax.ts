import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs } from './check.ts';

/** Rows per workgroup: lavapipe runs a workgroup as SIMD lanes on one CPU thread. */
const WG = 8;

/** Options of `softmax`. */
export interface SoftmaxOptions {
  /** Factor on x before the softmax (attention's 1/√d); default 1. */
  scale?: number;
  /**
   * Treat the second-to-last axis as query rows i and the last as keys j, and keep j ≤ i only
   * (top-left aligned, like `attention`'s causal mask); masked entries are 0.
   */
  causal?: boolean;
  /** With `causal`: the first query row is query `queryOffset` (a chunk of a longer sequence's rows); default 0. */
  queryOffset?: number;
  /** Storage dtype of the result; default x's. */
  dtype?: 'f32' | 'f16';
}

/**
 * Softmax over the last axis of any-rank `x` (e.g. `[batch, heads, Lq, Lk]` → probabilities over
 * Lk), of `scale·x`, numerically stable (the row max is subtracted before exp), computed in f32
 * for f32 and f16 storage. Returns a tensor of x's shape, in x's dtype unless `dtype` is given.
 */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  const op = 'softmax';
  checkInputs(op, [x], 'float');
  if (x.rank === 0) throw new ShapeError(`${op}: needs at least one axis, got a scalar ${fmt(x.shape)}`);
  const { scale = 1, causal = false, queryOffset = 0, dtype = x.dtype as 'f32' | 'f16' } = options;
  if (!Number.isInteger(queryOffset) || queryOffset < 0) throw new RangeError(`${op}: queryOffset must be an integer ≥ 0, got ${queryOffset}`);
  if (causal && x.rank < 2) throw new ShapeError(`${op}: causal needs a query axis before the key axis, got ${fmt(x.shape)}`);
  x.device.checkDType(op, dtype);
  const n = x.shape[x.rank - 1];
  const y = empty(x.device, x.shape, dtype);
  if (x.size === 0) return y;
  const rows = x.size / n;
  x.device.run({
    shader: 'softmax',
    types: { X: x.dtype, Y: dtype },
    consts: { WG, CAUSAL: causal },
    inputs: [x],
    outputs: [y],
    params: new Params().u32(rows, n, causal ? x.shape[x.rank - 2] : 1, queryOffset).f32(scale).bytes(),
    workgroups: grid(Math.ceil(rows / WG)),
    // three reads and one write per element, two exps
    cost: x.size * 40 + 4 * 4 * x.bytes,
  });
  return y;
}
