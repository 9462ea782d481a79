// Plain TypeScript reference implementations of every op, written for clarity, computed in
// float64, and used as the oracle in tests. They share no code with the GPU kernels.

/** A tensor on the CPU: row-major `data` of `shape`. */
export interface HostTensor {
  shape: number[];
  data: Float64Array | Float32Array;
}

export function host(data: ArrayLike<number>, shape: number[]): HostTensor {
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides of a shape. */
export function stridesFor(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s.unshift(acc);
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}
