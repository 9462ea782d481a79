// The half of the UNet that the ControlNet copies: time embedding MLP, input blocks, middle block.

import { silu, timestepEmbedding, upsampleNearest2x, type Tensor } from '@unicontrol/core';
import type { UNetConfig } from '../config.ts';
import type { CrossAttention, TextContext } from '../nn/attention.ts';
import { Conv2d, Linear } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import { sequence } from '../nn/steps.ts';
import { ResBlock } from './resBlock.ts';
import { SpatialTransformer } from './spatialTransformer.ts';

/**
 * One entry of `input_blocks` / `output_blocks` / `middle_block`: an optional ResBlock, an
 * optional SpatialTransformer, then an optional resampling convolution.
 */
export class UNetBlock {
  constructor(
    private readonly layers: {
      conv?: Conv2d;
      res?: ResBlock;
      attn?: SpatialTransformer;
      /** A 3x3 conv after nearest 2x upsampling. */
      upsample?: Conv2d;
    },
  ) {}

  /** The cross-attention layers of its SpatialTransformer, if it has one. */
  crossAttentions(): CrossAttention[] {
    return this.layers.attn?.crossAttentions() ?? [];
  }

  forward(x: Tensor, embSilu: Tensor, context: TextContext): Tensor {
    const { conv, res, attn, upsample } = this.layers;
    const layers: ((h: Tensor) => Tensor)[] = [];
    if (conv) layers.push((h) => conv.forward(h));
    if (res) layers.push((h) => res.forward(h, embSilu));
    if (attn) layers.push((h) => attn.forward(h, context));
    if (upsample) layers.push((h) => upsample.forward(upsampleNearest2x(h)));
    return sequence(x, layers);
  }
}

/** Time embedding, input blocks and middle block, as `UNetModel` and `ControlNet` both hold them. */
export class UNetEncoder {
  private readonly time0: Linear;
  private readonly time2: Linear;
  readonly inputBlocks: UNetBlock[] = [];
  readonly middle: UNetBlock[];

  constructor(
    w: WeightScope,
    readonly config: UNetConfig,
  ) {
    const c = config;
    this.time0 = new Linear(w.at('time_embed.0'));
    this.time2 = new Linear(w.at('time_embed.2'));
    this.inputBlocks.push(new UNetBlock({ conv: new Conv2d(w.at('input_blocks.0.0'), { padding: 1 }) }));
    c.channelMult.forEach((_, level) => {
      for (let r = 0; r < c.numResBlocks; r++) {
        const b = w.at(`input_blocks.${this.inputBlocks.length}`);
        this.inputBlocks.push(
          new UNetBlock({ res: new ResBlock(b.at(0), c.resnetEps), attn: c.attentionLevels[level] ? new SpatialTransformer(b.at(1), c) : undefined }),
        );
      }
      if (level < c.channelMult.length - 1) {
        const op = w.at(`input_blocks.${this.inputBlocks.length}.0.op`);
        this.inputBlocks.push(new UNetBlock({ conv: new Conv2d(op, { stride: 2, padding: 1 }) }));
      }
    });
    const m = w.at('middle_block');
    this.middle = [
      new UNetBlock({ res: new ResBlock(m.at(0), c.resnetEps), attn: new SpatialTransformer(m.at(1), c) }),
      new UNetBlock({ res: new ResBlock(m.at(2), c.resnetEps) }),
    ];
  }

  /** The time embedding `[batch, timeEmbedDim]` of timesteps `t` `[batch]` (before the SiLU the blocks apply). */
  timeEmbedding(t: Tensor): Tensor {
    const sinusoid = timestepEmbedding(t, this.config.modelChannels);
    return this.time2.forward(silu(this.time0.forward(sinusoid)));
  }

  /** The cross-attention layers of the input and middle blocks. */
  crossAttentions(): CrossAttention[] {
    return [...this.inputBlocks, ...this.middle].flatMap((b) => b.crossAttentions());
  }

  middleForward(x: Tensor, embSilu: Tensor, context: TextContext): Tensor {
    return sequence(
      x,
      this.middle.map((block) => (h) => block.forward(h, embSilu, context)),
    );
  }
}
