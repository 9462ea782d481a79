import { add, type Tensor } from '@unicontrol/core';
import { Conv2d, GroupNorm, Linear } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';

/**
 * The UNet's ResBlock (no scale-shift norm): GN+SiLU, 3x3 conv, + projected time embedding,
 * GN+SiLU, 3x3 conv, + the input (through a 1x1 conv when the width changes).
 */
export class ResBlock {
  private readonly inNorm: GroupNorm;
  private readonly inConv: Conv2d;
  private readonly emb: Linear;
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv2d;
  private readonly skip?: Conv2d;

  constructor(w: WeightScope, eps: number) {
    this.inNorm = new GroupNorm(w.at('in_layers.0'), eps);
    this.inConv = new Conv2d(w.at('in_layers.2'), { padding: 1 });
    this.emb = new Linear(w.at('emb_layers.1'));
    this.outNorm = new GroupNorm(w.at('out_layers.0'), eps);
    this.outConv = new Conv2d(w.at('out_layers.3'), { padding: 1 });
    if (w.has('skip_connection.weight')) this.skip = new Conv2d(w.at('skip_connection'));
  }

  /**
   * @param x `[batch, inC, H, W]`
   * @param embSilu SiLU of the time embedding, `[batch, timeEmbedDim]` (shared by every block)
   */
  forward(x: Tensor, embSilu: Tensor): Tensor {
    const [b] = x.shape;
    let h = this.inConv.forward(this.inNorm.forward(x, { silu: true }));
    const e = this.emb.forward(embSilu);
    h = add(h, e.reshape([b, e.shape[1], 1, 1]));
    const skip = this.skip ? this.skip.forward(x) : x;
    return this.outConv.forward(this.outNorm.forward(h, { silu: true }), { residual: skip });
  }
}
