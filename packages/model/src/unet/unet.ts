import { add, concat, silu, type Tensor } from '@unicontrol/core';
import type { UNetConfig } from '../config.ts';
import { textContext, type CrossAttention, type TextContext } from '../nn/attention.ts';
import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import { UNetBlock, UNetEncoder } from './encoder.ts';
import { ResBlock } from './resBlock.ts';
import { SpatialTransformer } from './spatialTransformer.ts';

/**
 * Stable Diffusion 1.5's denoising UNet (`ControlledUnetModel`): predicts the noise ε in a latent.
 * Control residuals, when given, are added to the middle block's output and to every skip.
 */
export class UNet {
  readonly encoder: UNetEncoder;
  private readonly outputBlocks: UNetBlock[] = [];
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv2d;

  constructor(w: WeightScope, c: UNetConfig) {
    this.encoder = new UNetEncoder(w, c);
    for (let level = c.channelMult.length - 1; level >= 0; level--) {
      for (let r = 0; r <= c.numResBlocks; r++) {
        const b = w.at(`output_blocks.${this.outputBlocks.length}`);
        const attn = c.attentionLevels[level];
        const up = level > 0 && r === c.numResBlocks;
        this.outputBlocks.push(
          new UNetBlock({
            res: new ResBlock(b.at(0), c.resnetEps),
            attn: attn ? new SpatialTransformer(b.at(1), c) : undefined,
            upsample: up ? new Conv2d(b.at(`${attn ? 2 : 1}.conv`), { padding: 1 }) : undefined,
          }),
        );
      }
    }
    this.outNorm = new GroupNorm(w.at('out.0'), c.resnetEps);
    this.outConv = new Conv2d(w.at('out.2'), { padding: 1 });
  }

  /** Every cross-attention layer (the readers of the text context). */
  crossAttentions(): CrossAttention[] {
    return [...this.encoder.crossAttentions(), ...this.outputBlocks.flatMap((b) => b.crossAttentions())];
  }

  /**
   * @param x noisy latents `[batch, inChannels, h, w]` (h and w divisible by 2^(levels−1))
   * @param t timesteps `[batch]` (float, 0–999)
   * @param context text embeddings `[batch, tokens, contextDim]`, or a `TextContext`
   * @param control ControlNet residuals, one per input block then the middle block (already
   *   scaled); absent for the plain UNet
   * @returns ε `[batch, outChannels, h, w]`
   */
  forward(x: Tensor, t: Tensor, context: Tensor | TextContext, control?: readonly Tensor[]): Tensor {
    const enc = this.encoder;
    const text = textContext(context);
    if (control && control.length !== enc.inputBlocks.length + 1) {
      throw new Error(`UNet: got ${control.length} control residuals; this UNet takes ${enc.inputBlocks.length + 1} (one per input block and the middle block)`);
    }
    const embSilu = silu(enc.timeEmbedding(t));
    const skips: Tensor[] = [];
    let h = x;
    for (const block of enc.inputBlocks) {
      h = block.forward(h, embSilu, text);
      skips.push(h);
    }
    h = enc.middleForward(h, embSilu, text);
    const pending = control ? [...control] : undefined;
    if (pending) h = add(h, pending.pop()!);
    // The skips and each block's input are this pass's own tensors: free them as they are used.
    for (const block of this.outputBlocks) {
      const skip = skips.pop()!;
      const residual = pending?.pop();
      const next = x.device.scope(() => block.forward(concat([h, residual ? add(skip, residual) : skip], 1), embSilu, text));
      h.dispose();
      skip.dispose();
      h = next;
    }
    return this.outConv.forward(this.outNorm.forward(h, { silu: true }));
  }
}
