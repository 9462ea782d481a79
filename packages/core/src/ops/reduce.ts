import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { normAxis } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { defineVariants, pickVariant } from '../variants.ts';
import { checkInputs } from './check.ts';

/**
 * Kernels of the reductions (shaders/reduce.wgsl): `thread` gives each output one invocation that
 * walks its whole line; `workgroup` splits each line over a workgroup; `auto` (default) picks
 * `workgroup` only for few outputs with long lines.
 */
export const REDUCE_VARIANTS = defineVariants('reduce', ['auto', 'thread', 'workgroup'] as const);

const WG = 64;
const OPS = { sum: 0, mean: 1, max: 2 } as const;
export type ReduceOp = keyof typeof OPS;

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep the reduced axis with length 1 (default false: drop it). */
  keepDims?: boolean;
  variant?: string;
}

/**
 * Reduces one axis of x (any rank; a negative axis counts from the end) by sum, mean or max,
 * accumulating in f32. The output has x's dtype and shape without `axis` (or with it as 1 when
 * `keepDims`). The sum over an empty axis is 0; mean and max of an empty axis are errors.
 */
export function reduce(op: ReduceOp, x: Tensor, axis: number, options: ReduceOptions = {}): Tensor {
  checkInputs(op, [x], 'float');
  if (x.rank === 0) throw new ShapeError(`${op}: x has no axis to reduce (shape ${fmt(x.shape)})`);
  const a = normAxis(op, axis, x.rank);
  const n = x.shape[a];
  if (n === 0 && op !== 'sum') throw new ShapeError(`${op}: axis ${axis} of x ${fmt(x.shape)} is empty`);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  const out = empty(x.device, options.keepDims ? kept : x.shape.filter((_, i) => i !== a), x.dtype);
  const outputs = out.size;
  if (outputs === 0) return out;
  let variant = pickVariant(op, REDUCE_VARIANTS, options.variant);
  // Measured on lavapipe: a workgroup per output only pays off when there are too few outputs to
  // spread (1 output of 1e6: 5× faster); with 640 outputs of 4096 it was 3.5× slower.
  if (variant === 'auto') variant = outputs < 128 && n >= 256 ? 'workgroup' : 'thread';
  const threads = variant === 'workgroup' ? WG : 1;
  x.device.run({
    shader: 'reduce',
    types: { X: x.dtype },
    consts: { WG, OP: OPS[op], THREADS: threads },
    inputs: [x],
    outputs: [out],
    params: new Params().u32(outputs, n, inner).bytes(),
    workgroups: grid(threads === 1 ? Math.ceil(outputs / WG) : outputs),
    cost: x.size * (1 + 4 * BYTES[x.dtype]),
  });
  return out;
}

/** Sum over one axis; see `reduce`. */
export const sum = (x: Tensor, axis: number, keepDims = false): Tensor => reduce('sum', x, axis, { keepDims });
/** Mean over one axis; see `reduce`. */
export const mean = (x: Tensor, axis: number, keepDims = false): Tensor => reduce('mean', x, axis, { keepDims });
/** Maximum over one axis; see `reduce`. */
export const max = (x: Tensor, axis: number, keepDims = false): Tensor => reduce('max', x, axis, { keepDims });
