import { sizeOf, stridesFor, unravel, type HostTensor } from './host.ts';

/**
 * A tensor of `shape` whose element at multi-index `idx` is x's element at multi-index
 * `source(idx)`: the common form of the layout ops below.
 */
function build(shape: number[], source: (idx: number[]) => number[], x: HostTensor): HostTensor {
  const out = new Float64Array(sizeOf(shape));
  const strides = stridesFor(x.shape);
  for (let i = 0; i < out.length; i++) {
    const from = source(unravel(i, shape));
    out[i] = x.data[from.reduce((a, c, d) => a + c * strides[d], 0)];
  }
  return { shape, data: out };
}

/** out[i0, i1, …] = x[j…] with j[dims[k]] = i[k]. */
export function permuteCpu(x: HostTensor, dims: number[]): HostTensor {
  return build(
    dims.map((d) => x.shape[d]),
    (idx) => {
      const j = new Array<number>(idx.length);
      dims.forEach((d, k) => (j[d] = idx[k]));
      return j;
    },
    x,
  );
}

/** out[i] = x[starts + i] for each axis, ends exclusive; starts/ends already non-negative and full-rank. */
export function sliceCpu(x: HostTensor, starts: number[], ends: number[]): HostTensor {
  return build(
    ends.map((e, d) => e - starts[d]),
    (idx) => idx.map((c, d) => c + starts[d]),
    x,
  );
}

/** Joins tensors along `axis` (non-negative) by walking the output and finding which input owns each index. */
export function concatCpu(xs: HostTensor[], axis: number): HostTensor {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((a, t) => a + t.shape[axis], 0);
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    let along = idx[axis];
    while (along >= xs[k].shape[axis]) along -= xs[k++].shape[axis];
    idx[axis] = along;
    const strides = stridesFor(xs[k].shape);
    out[i] = xs[k].data[idx.reduce((a, c, d) => a + c * strides[d], 0)];
  }
  return { shape, data: out };
}

/** Nearest-neighbour 2× upsampling of `[batch, C, H, W]`: out[b, c, y, x] = in[b, c, ⌊y/2⌋, ⌊x/2⌋]. */
export function upsampleNearest2xCpu(x: HostTensor): HostTensor {
  const [b, c, h, w] = x.shape;
  return build([b, c, 2 * h, 2 * w], ([i, j, y, z]) => [i, j, Math.floor(y / 2), Math.floor(z / 2)], x);
}
