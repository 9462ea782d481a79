import type { HostTensor } from './host.ts';

export interface Conv2dCpuOptions {
  bias?: HostTensor;
  stride?: [number, number];
  padding?: [number, number];
  activation?: 'silu' | 'none';
  residual?: HostTensor;
  inputScale?: HostTensor;
}

/**
 * PyTorch's conv2d on the CPU in float64, NCHW: `x` `[B, C, H, W]`, `weight` `[O, C, kH, kW]`,
 * zero padding; then `act(· + bias) + residual`. `inputScale` `[B, C]` scales the weights per
 * sample and input channel.
 */
export function conv2dCpu(x: HostTensor, weight: HostTensor, options: Conv2dCpuOptions = {}): HostTensor {
  const [B, C, H, W] = x.shape;
  const [O, , KH, KW] = weight.shape;
  const [sy, sx] = options.stride ?? [1, 1];
  const [py, px] = options.padding ?? [0, 0];
  const OH = Math.floor((H + 2 * py - KH) / sy) + 1;
  const OW = Math.floor((W + 2 * px - KW) / sx) + 1;
  const out = new Float64Array(B * O * OH * OW);
  const input = (b: number, c: number, iy: number, ix: number): number =>
    iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x.data[((b * C + c) * H + iy) * W + ix];
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) {
          let sum = 0;
          for (let c = 0; c < C; c++) {
            const s = options.inputScale ? options.inputScale.data[b * C + c] : 1;
            for (let ky = 0; ky < KH; ky++) {
              for (let kx = 0; kx < KW; kx++) {
                const wv = weight.data[((o * C + c) * KH + ky) * KW + kx] * s;
                sum += wv * input(b, c, oy * sy + ky - py, ox * sx + kx - px);
              }
            }
          }
          if (options.bias) sum += options.bias.data[o];
          if (options.activation === 'silu') sum = sum / (1 + Math.exp(-sum));
          const at = ((b * O + o) * OH + oy) * OW + ox;
          if (options.residual) sum += options.residual.data[at];
          out[at] = sum;
        }
      }
    }
  }
  return { shape: [B, O, OH, OW], data: out };
}
