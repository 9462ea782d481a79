import type { WeightScope } from '../weights/weights.ts';
import { AttnBlock } from './attentionBlock.ts';
import { ResnetBlock } from './resnetBlock.ts';
import { whole, type BlockLimit } from './channelParts.ts';
import type { Step } from '../nn/steps.ts';

/** The middle of the encoder and of the decoder: `block_1`, `attn_1`, `block_2` at the top width. */
export function midSteps(w: WeightScope, eps: number, blocks: BlockLimit): Step[] {
  const block1 = new ResnetBlock(w.at('block_1'), eps, blocks);
  const attn = new AttnBlock(w.at('attn_1'), eps);
  const block2 = new ResnetBlock(w.at('block_2'), eps, blocks);
  return [(h) => block1.forward(h), (h) => [attn.forward(whole(h))], (h) => block2.forward(h)];
}
