import { stridesFor, unravel, type HostTensor } from './host.ts';

export type ReduceKind = 'sum' | 'mean' | 'max';

/**
 * Reduces one axis (already non-negative) of x by sum, mean or max, in float64: every output
 * position gathers its line of values along the axis through the input strides.
 */
export function reduceCpu(kind: ReduceKind, x: HostTensor, axis: number, keepDims = false): HostTensor {
  const kept = x.shape.map((d, i) => (i === axis ? 1 : d));
  const strides = stridesFor(x.shape);
  const size = kept.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  for (let o = 0; o < size; o++) {
    const idx = unravel(o, kept);
    const line: number[] = [];
    for (let j = 0; j < x.shape[axis]; j++) {
      idx[axis] = j;
      line.push(x.data[idx.reduce((a, c, d) => a + c * strides[d], 0)]);
    }
    if (kind === 'max') out[o] = Math.max(...line);
    else {
      const sum = line.reduce((a, v) => a + v, 0);
      out[o] = kind === 'mean' ? sum / line.length : sum;
    }
  }
  return { shape: keepDims ? kept : x.shape.filter((_, i) => i !== axis), data: out };
}
