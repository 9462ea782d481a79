import { attention, linear, permute, type Tensor } from '@unicontrol/core';
import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';

/**
 * The VAE's AttnBlock (ldm `AttnBlock`, in the mid blocks): GroupNorm, q/k/v 1x1 convs, one
 * attention head over the H·W pixels as tokens with scale C^−0.5, 1x1 `proj_out`, plus the input.
 */
export class AttnBlock {
  private readonly norm: GroupNorm;
  private readonly q: Conv2d;
  private readonly k: Conv2d;
  private readonly v: Conv2d;
  private readonly projOut: Conv2d;

  constructor(w: WeightScope, eps: number) {
    this.norm = new GroupNorm(w.at('norm'), eps);
    this.q = new Conv2d(w.at('q'));
    this.k = new Conv2d(w.at('k'));
    this.v = new Conv2d(w.at('v'));
    this.projOut = new Conv2d(w.at('proj_out'));
  }

  /** `x` `[batch, C, H, W]` → `[batch, C, H, W]`. */
  forward(x: Tensor): Tensor {
    const [b, c, hh, ww] = x.shape;
    // One permute to tokens `[batch, H·W, C]`, then q, k and v as linears on them (a 1x1 conv is
    // a linear over channels): cheaper than three convs each followed by its own permute.
    const tokens = permute(this.norm.forward(x), [0, 2, 3, 1]).reshape([b, hh * ww, c]);
    const project = (conv: Conv2d): Tensor => linear(tokens, conv.weight.reshape([c, c]), conv.bias);
    const o = attention(project(this.q), project(this.k), project(this.v), { heads: 1, scale: c ** -0.5 });
    const back = permute(o.reshape([b, hh, ww, c]), [0, 3, 1, 2]);
    return this.projOut.forward(back, { residual: x });
  }
}
