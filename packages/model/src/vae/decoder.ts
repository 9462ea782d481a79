import type { Tensor } from '@unicontrol/core';
import type { VaeConfig } from '../config.ts';
import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import { convParts, normParts, upsampleParts, whole, type BlockLimit } from './channelParts.ts';
import { midSteps } from './midBlock.ts';
import { ResnetBlock } from './resnetBlock.ts';
import { runSteps, type Step } from '../nn/steps.ts';

/**
 * The VAE decoder (ldm `Decoder`, weights under `decoder.`): conv_in; the mid block; levels from
 * the top down, each `numResBlocks + 1` ResnetBlocks, then (all but level 0) an Upsample =
 * nearest 2x and a 3x3 conv; GN+SiLU; conv_out to the image channels.
 */
export class Decoder {
  private readonly steps: Step[] = [];

  constructor(w: WeightScope, c: VaeConfig, blocks: BlockLimit = {}) {
    const convIn = new Conv2d(w.at('conv_in'), { padding: 1 });
    this.steps.push((z) => convParts(convIn, z, blocks));
    this.steps.push(...midSteps(w.at('mid'), c.normEps, blocks));
    for (let level = c.chMult.length - 1; level >= 0; level--) {
      const up = w.at(`up.${level}`);
      for (let r = 0; r <= c.numResBlocks; r++) {
        const block = new ResnetBlock(up.at(`block.${r}`), c.normEps, blocks);
        this.steps.push((h) => block.forward(h));
      }
      if (level > 0) {
        const conv = new Conv2d(up.at('upsample.conv'), { padding: 1 });
        this.steps.push((h) => convParts(conv, upsampleParts(h, blocks), blocks));
      }
    }
    const normOut = new GroupNorm(w.at('norm_out'), c.normEps);
    const convOut = new Conv2d(w.at('conv_out'), { padding: 1 });
    this.steps.push((h) => convParts(convOut, normParts(normOut, h, true), blocks));
  }

  /**
   * @param z `[batch, zChannels, h, w]` (after post_quant_conv)
   * @returns `[batch, outChannels, h·2^(levels−1), w·2^(levels−1)]`
   */
  forward(z: Tensor): Tensor {
    return whole(runSteps(z, this.steps));
  }
}
