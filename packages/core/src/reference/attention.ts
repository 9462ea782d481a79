// CPU references for softmax and attention: the textbook formulas, in float64, materialising the
// whole score matrix (fine for test sizes; the GPU kernel never does).
import type { HostTensor } from './host.ts';

/** Softmax over the last axis of any-rank `x`: exp(x − max) / Σ exp(x − max), row by row. */
export function softmaxCpu(x: HostTensor): HostTensor {
  const n = x.shape[x.shape.length - 1] ?? 1;
  const out = new Float64Array(x.data.length);
  for (let start = 0; start < x.data.length; start += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) max = Math.max(max, x.data[start + j]);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += Math.exp(x.data[start + j] - max);
    for (let j = 0; j < n; j++) out[start + j] = Math.exp(x.data[start + j] - max) / sum;
  }
  return { shape: [...x.shape], data: out };
}

/**
 * Multi-head scaled dot-product attention. q [batch, Lq, heads·d], k and v [batch, Lk, heads·d];
 * returns [batch, Lq, heads·d]. For each batch and head: S = scale·Q·Kᵀ, with S[i][j] = −∞ where
 * `causal` and j > i, then P = softmax over each row of S, out = P·V.
 * `rows` limits the work to some query rows (the others are left 0), for large cases.
 */
export function attentionCpu(
  q: HostTensor,
  k: HostTensor,
  v: HostTensor,
  opts: { heads: number; causal?: boolean; scale?: number; rows?: readonly number[] },
): HostTensor {
  const [batch, lq, width] = q.shape;
  const lk = k.shape[1];
  const heads = opts.heads;
  const d = width / heads;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const rows = opts.rows ?? Array.from({ length: lq }, (_, i) => i);
  const at = (t: HostTensor, len: number, b: number, token: number, h: number, c: number): number =>
    t.data[(b * len + token) * width + h * d + c];
  const out = new Float64Array(batch * lq * width);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (const i of rows) {
        const scores: number[] = [];
        for (let j = 0; j < lk; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += at(q, lq, b, i, h, c) * at(k, lk, b, j, h, c);
          scores.push(opts.causal && j > i ? -Infinity : scale * dot);
        }
        const p = softmaxCpu({ shape: [lk], data: Float64Array.from(scores) }).data;
        for (let c = 0; c < d; c++) {
          let sum = 0;
          for (let j = 0; j < lk; j++) sum += p[j] * at(v, lk, b, j, h, c);
          out[(b * lq + i) * width + h * d + c] = sum;
        }
      }
    }
  }
  return { shape: [batch, lq, width], data: out };
}
