import type { Tensor } from '@unicontrol/core';
import type { VaeConfig } from '../config.ts';
import { Conv2d, GroupNorm } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import { Downsample } from './downsample.ts';
import { convParts, normParts, whole, type BlockLimit } from './channelParts.ts';
import { midSteps } from './midBlock.ts';
import { ResnetBlock } from './resnetBlock.ts';
import { runSteps, type Step } from '../nn/steps.ts';

/**
 * The VAE encoder (ldm `Encoder`, weights under `encoder.`): conv_in; per level `numResBlocks`
 * ResnetBlocks, then a Downsample on every level but the last; the mid block; GN+SiLU; conv_out
 * to the 2·zChannels posterior moments (mean and log-variance).
 */
export class Encoder {
  private readonly steps: Step[] = [];

  constructor(w: WeightScope, c: VaeConfig, blocks: BlockLimit = {}) {
    const convIn = new Conv2d(w.at('conv_in'), { padding: 1 });
    this.steps.push((x) => convParts(convIn, x, blocks));
    c.chMult.forEach((_, level) => {
      const down = w.at(`down.${level}`);
      for (let r = 0; r < c.numResBlocks; r++) {
        const block = new ResnetBlock(down.at(`block.${r}`), c.normEps, blocks);
        this.steps.push((h) => block.forward(h));
      }
      if (level < c.chMult.length - 1) {
        const downsample = new Downsample(down.at('downsample'));
        this.steps.push((h) => [downsample.forward(whole(h))]);
      }
    });
    this.steps.push(...midSteps(w.at('mid'), c.normEps, blocks));
    const normOut = new GroupNorm(w.at('norm_out'), c.normEps);
    const convOut = new Conv2d(w.at('conv_out'), { padding: 1 });
    this.steps.push((h) => convParts(convOut, normParts(normOut, h, true), blocks));
  }

  /**
   * @param x images `[batch, inChannels, H, W]`, H and W multiples of 2^(levels−1)
   * @returns moments `[batch, 2·zChannels, H/2^(levels−1), W/2^(levels−1)]`
   */
  forward(x: Tensor): Tensor {
    return whole(runSteps(x, this.steps));
  }
}
