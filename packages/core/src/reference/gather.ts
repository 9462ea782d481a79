import type { HostTensor } from './host.ts';

/** Embedding lookup: row ids[i] of table `[V, D]` for every id; rows of out-of-range ids are NaN. */
export function gatherCpu(table: HostTensor, ids: ArrayLike<number>, idsShape: number[]): HostTensor {
  const [vocab, dim] = table.shape;
  const out = new Float64Array(ids.length * dim);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    for (let d = 0; d < dim; d++) out[i * dim + d] = id >= 0 && id < vocab ? table.data[id * dim + d] : NaN;
  }
  return { shape: [...idsShape, dim], data: out };
}
