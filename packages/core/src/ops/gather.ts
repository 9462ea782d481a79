import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs, checkRank } from './check.ts';

const WG = 64;

/**
 * Embedding lookup: row `ids[...]` of `table` for every id. An id outside `0 ≤ id < V` gives a
 * row of NaN (the ids live on the GPU, so this cannot throw; NaN makes the mistake visible
 * instead of silently reading a clamped row), and never reads out of bounds.
 *
 * @param table `[V, D]`, f32 or f16
 * @param ids i32 of any shape (e.g. `[batch, tokens]`)
 * @returns `[...ids.shape, D]` in the table's dtype
 */
export function gather(table: Tensor, ids: Tensor): Tensor {
  const op = 'gather';
  checkInputs(op, [table], 'float');
  checkInputs(op, [table, ids]);
  checkRank(op, 'table', table, 2);
  if (ids.dtype !== 'i32') throw new ShapeError(`${op}: ids ${fmt(ids.shape)} must be i32, got ${ids.dtype}`);
  const [rows, dim] = table.shape;
  const out = empty(table.device, [...ids.shape, dim], table.dtype);
  if (out.size === 0) return out;
  table.device.run({
    shader: 'gather',
    types: { T: table.dtype },
    consts: { WG },
    inputs: [table, ids],
    outputs: [out],
    params: new Params().u32(out.size, dim, rows, 0x7fc00000 /* f32 quiet NaN */).bytes(),
    workgroups: grid(Math.ceil(out.size / WG)),
    cost: out.size * 8 * BYTES[table.dtype],
  });
  return out;
}
