import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import { convParts, normParts, type BlockLimit, type Parts } from './channelParts.ts';

/**
 * The VAE's ResnetBlock (ldm `ResnetBlock` without a time embedding): GN+SiLU, 3x3 conv, GN+SiLU,
 * 3x3 conv, plus the input, through the 1x1 `nin_shortcut` when the width changes. The SiLUs run
 * inside the norms and the residual add inside the last conv.
 */
export class ResnetBlock {
  private readonly norm1: GroupNorm;
  private readonly conv1: Conv2d;
  private readonly norm2: GroupNorm;
  private readonly conv2: Conv2d;
  private readonly shortcut?: Conv2d;

  constructor(
    w: WeightScope,
    eps: number,
    private readonly blocks: BlockLimit,
  ) {
    this.norm1 = new GroupNorm(w.at('norm1'), eps);
    this.conv1 = new Conv2d(w.at('conv1'), { padding: 1 });
    this.norm2 = new GroupNorm(w.at('norm2'), eps);
    this.conv2 = new Conv2d(w.at('conv2'), { padding: 1 });
    if (w.has('nin_shortcut.weight')) this.shortcut = new Conv2d(w.at('nin_shortcut'));
  }

  /** `x` `[batch, inC, H, W]` → `[batch, outC, H, W]`, as channel blocks when too big for one binding. */
  forward(x: Parts): Parts {
    const h = convParts(this.conv1, normParts(this.norm1, x, true), this.blocks);
    const skip = this.shortcut ? convParts(this.shortcut, x, this.blocks) : x;
    return convParts(this.conv2, normParts(this.norm2, h, true), this.blocks, skip);
  }
}
