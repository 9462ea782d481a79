import { permute, type Tensor } from '@unicontrol/core';
import type { UNetConfig } from '../config.ts';
import { BasicTransformerBlock, type CrossAttention, type TextContext } from '../nn/attention.ts';
import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';

/**
 * SpatialTransformer (use_linear False): GroupNorm, 1x1 conv in, transformer blocks over the
 * H·W tokens, 1x1 conv out, plus the input. Heads are fixed (`numHeads`); head size = C / heads.
 */
export class SpatialTransformer {
  private readonly norm: GroupNorm;
  private readonly projIn: Conv2d;
  private readonly projOut: Conv2d;
  private readonly blocks: BasicTransformerBlock[];

  constructor(w: WeightScope, c: UNetConfig) {
    this.norm = new GroupNorm(w.at('norm'), c.transformerNormEps);
    this.projIn = new Conv2d(w.at('proj_in'));
    this.projOut = new Conv2d(w.at('proj_out'));
    this.blocks = Array.from({ length: c.transformerDepth }, (_, d) => new BasicTransformerBlock(w.at(`transformer_blocks.${d}`), c.numHeads, c.layerNormEps));
  }

  /** Its blocks' cross-attention layers. */
  crossAttentions(): CrossAttention[] {
    return this.blocks.map((b) => b.crossAttention);
  }

  /** `x` `[batch, C, H, W]` → `[batch, C, H, W]`. */
  forward(x: Tensor, context: TextContext): Tensor {
    const [b, ch, hh, ww] = x.shape;
    const h = this.projIn.forward(this.norm.forward(x));
    let tokens = permute(h, [0, 2, 3, 1]).reshape([b, hh * ww, ch]);
    for (const block of this.blocks) tokens = block.forward(tokens, context);
    const back = permute(tokens.reshape([b, hh, ww, ch]), [0, 3, 1, 2]);
    return this.projOut.forward(back, { residual: x });
  }
}
