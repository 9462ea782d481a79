import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs } from './check.ts';

/** Rows per workgroup: lavapipe runs a workgroup as SIMD lanes on one CPU thread. */
const WG = 8;

/**
 * Softmax over the last axis of any-rank `x` (e.g. `[batch, heads, Lq, Lk]` → probabilities over
 * Lk), numerically stable (the row max is subtracted before exp), computed in f32 for f32 and f16
 * storage. Returns a tensor of x's shape and dtype.
 */
export function softmax(x: Tensor): Tensor {
  const op = 'softmax';
  checkInputs(op, [x], 'float');
  if (x.rank === 0) throw new ShapeError(`${op}: needs at least one axis, got a scalar ${fmt(x.shape)}`);
  const n = x.shape[x.rank - 1];
  const y = empty(x.device, x.shape, x.dtype);
  if (x.size === 0) return y;
  const rows = x.size / n;
  x.device.run({
    shader: 'softmax',
    types: { X: x.dtype },
    consts: { WG },
    inputs: [x],
    outputs: [y],
    params: new Params().u32(rows, n).bytes(),
    workgroups: grid(Math.ceil(rows / WG)),
    // three reads and one write per element, two exps
    cost: x.size * 40 + 4 * 4 * x.bytes,
  });
  return y;
}
