import type { HostTensor } from './host.ts';

/**
 * GroupNorm as PyTorch defines it: for x `[batch, C, ...spatial]`, each (batch, group) of C/groups
 * channels is normalised by its mean and biased variance, then scaled and shifted per channel.
 * Computed in float64 with the textbook two-pass formula.
 */
export function groupNormCpu(
  x: HostTensor,
  groups: number,
  eps: number,
  weight?: HostTensor,
  bias?: HostTensor,
  silu = false,
): HostTensor {
  const [batch, channels] = x.shape;
  const spatial = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const perGroup = channels / groups;
  const out = new Float64Array(x.data.length);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      const values: number[] = [];
      const where: number[] = [];
      for (let c = g * perGroup; c < (g + 1) * perGroup; c++) {
        for (let s = 0; s < spatial; s++) {
          const i = (b * channels + c) * spatial + s;
          values.push(x.data[i]);
          where.push(i);
        }
      }
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
      where.forEach((i, k) => {
        const c = Math.floor(i / spatial) % channels;
        let v = (values[k] - mean) / Math.sqrt(variance + eps);
        if (weight) v *= weight.data[c];
        if (bias) v += bias.data[c];
        out[i] = silu ? v / (1 + Math.exp(-v)) : v;
      });
    }
  }
  return { shape: [...x.shape], data: out };
}

/** LayerNorm over the last axis (PyTorch's `nn.LayerNorm(D)`), in float64. */
export function layerNormCpu(x: HostTensor, eps: number, weight?: HostTensor, bias?: HostTensor): HostTensor {
  const d = x.shape[x.shape.length - 1];
  const out = new Float64Array(x.data.length);
  for (let start = 0; start < x.data.length; start += d) {
    const row = Array.from(x.data.subarray(start, start + d));
    const mean = row.reduce((a, v) => a + v, 0) / d;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / d;
    row.forEach((v, j) => {
      let y = (v - mean) / Math.sqrt(variance + eps);
      if (weight) y *= weight.data[j];
      if (bias) y += bias.data[j];
      out[start + j] = y;
    });
  }
  return { shape: [...x.shape], data: out };
}
