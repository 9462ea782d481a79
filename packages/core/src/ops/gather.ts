import { BYTES, type DType } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs, checkRank, checkSameDType } from './check.ts';

const WG = 64;

/**
 * Embedding lookup: row `ids[...]` of `table` for every id. An id outside `0 ≤ id < V` gives a
 * row of NaN (the ids live on the GPU, so this cannot throw; NaN makes the mistake visible
 * instead of silently reading a clamped row), and never reads out of bounds.
 *
 * @param table `[V, D]`, f32 or f16; or consecutive row parts of one (`loadTensorSplit()`'s
 *   result for a table beyond the storage binding limit), which together have V rows
 * @param ids i32 of any shape (e.g. `[batch, tokens]`)
 * @returns `[...ids.shape, D]` in the table's dtype
 */
export function gather(table: Tensor | readonly Tensor[], ids: Tensor): Tensor {
  const op = 'gather';
  const parts = Array.isArray(table) ? table : [table as Tensor];
  if (parts.length === 0) throw new ShapeError(`${op}: the table has no parts`);
  checkInputs(op, parts, 'float');
  checkSameDType(op, parts);
  checkInputs(op, [parts[0], ids]);
  for (const part of parts) checkRank(op, 'table', part, 2);
  const dim = parts[0].shape[1];
  const odd = parts.find((t) => t.shape[1] !== dim);
  if (odd) throw new ShapeError(`${op}: table parts ${fmt(parts[0].shape)} and ${fmt(odd.shape)} differ in width`);
  if (ids.dtype !== 'i32') throw new ShapeError(`${op}: ids ${fmt(ids.shape)} must be i32, got ${ids.dtype}`);
  const total = parts.reduce((n, t) => n + t.shape[0], 0);
  const dtype: DType = parts[0].dtype;
  const out = empty(ids.device, [...ids.shape, dim], dtype);
  if (out.size === 0) return out;
  let first = 0;
  for (const part of parts) {
    ids.device.run({
      shader: 'gather',
      types: { T: dtype },
      consts: { WG },
      inputs: [part, ids],
      outputs: [out],
      params: new Params().u32(out.size, dim, part.shape[0], 0x7fc00000 /* f32 quiet NaN */, first, total).bytes(),
      workgroups: grid(Math.ceil(out.size / WG)),
      cost: out.size * 8 * BYTES[dtype],
    });
    first += part.shape[0];
  }
  return out;
}
