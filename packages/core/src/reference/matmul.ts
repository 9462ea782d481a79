import { type HostTensor, sizeOf, unravel } from './host.ts';

/**
 * Batched matrix product on the CPU in float64: `a` `[..., M, K]` (`[..., K, M]` when
 * `transposeA`) times `b` `[..., K, N]` (`[..., N, K]` when `transposeB`), batch dimensions
 * broadcast NumPy-style, plus `bias` `[N]`.
 */
export function matmulCpu(
  a: HostTensor,
  b: HostTensor,
  options: { transposeA?: boolean; transposeB?: boolean; bias?: HostTensor } = {},
): HostTensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = options.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = options.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = options.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pa = [...Array(rank - aBatch.length).fill(1), ...aBatch];
  const pb = [...Array(rank - bBatch.length).fill(1), ...bBatch];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));

  // Element (row, col) of one matrix of a tensor whose matrix block starts at `start`.
  const at = (t: HostTensor, start: number, row: number, col: number, transposed: boolean): number => {
    const cols = t.shape[t.shape.length - 1];
    return transposed ? t.data[start + col * cols + row] : t.data[start + row * cols + col];
  };
  // Start of the matrix that batch index `idx` selects in a tensor with padded batch shape `dims`.
  const matrixStart = (dims: number[], idx: number[], matrixSize: number): number => {
    let flat = 0;
    dims.forEach((d, i) => (flat = flat * d + (d === 1 ? 0 : idx[i])));
    return flat * matrixSize;
  };

  const out = new Float64Array(sizeOf(batch) * M * N);
  for (let bi = 0; bi < sizeOf(batch); bi++) {
    const idx = unravel(bi, batch);
    const aStart = matrixStart(pa, idx, M * K);
    const bStart = matrixStart(pb, idx, K * N);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = options.bias ? options.bias.data[n] : 0;
        for (let k = 0; k < K; k++) {
          sum += at(a, aStart, m, k, !!options.transposeA) * at(b, bStart, k, n, !!options.transposeB);
        }
        out[(bi * M + m) * N + n] = sum;
      }
    }
  }
  return { shape: [...batch, M, N], data: out };
}
