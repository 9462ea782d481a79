import { add, silu, type Tensor } from '@unicontrol/core';
import type { ControlNetConfig, UNetConfig } from '../config.ts';
import { textContext, type CrossAttention, type TextContext } from '../nn/attention.ts';
import { Conv2d } from '../nn/layers.ts';
import { UNetEncoder } from '../unet/encoder.ts';
import type { WeightScope } from '../weights/weights.ts';
import { HintPath, type AdapterInput } from './hint.ts';
import type { Probe } from './probe.ts';
import { TaskHyperNet } from './taskHyperNet.ts';

/** Inputs of one ControlNet evaluation beyond the latent, timestep and text context. */
export interface ControlInput {
  /**
   * The conditions: images `[batch, hintChannels, H, W]` (H, W = 8 × the latent's, values in
   * [0, 1]), each with the index of the hint adapter that reads it (`TASKS` order) and a weight.
   * One entry of weight 1 is the official single-task model.
   */
  adapters: readonly AdapterInput[];
  /** The task instruction's CLIP feature at position 0, `[1, featureDim]` (or `[1, 1, featureDim]`). */
  taskFeature: Tensor;
}

/**
 * What a ControlNet evaluation takes from the condition alone: the same at every sampling step,
 * so a sampling run computes it once (`ControlNet.condition`) instead of once per step.
 */
export interface ControlCondition {
  /** The hint path's feature, added after the first input block: `[batch, modelChannels, h, w]`. */
  hint: Tensor;
  /** The task HyperNet's per-input-channel scales of each zero-convolution, `[batch, C]`. */
  zeroConvScales: Tensor[];
}

/**
 * UniControl's ControlNet: a copy of the UNet encoder whose first block also receives the
 * condition (through the task's adapter and the shared hint block), and whose outputs pass
 * through zero-convolutions modulated per input channel by the task HyperNet.
 */
export class ControlNet {
  readonly encoder: UNetEncoder;
  private readonly hint: HintPath;
  private readonly hyper: TaskHyperNet;
  private readonly zeroConvs: Conv2d[];
  private readonly middleOut: Conv2d;

  constructor(
    w: WeightScope,
    unet: UNetConfig,
    readonly config: ControlNetConfig,
  ) {
    this.encoder = new UNetEncoder(w, unet);
    const n = this.encoder.inputBlocks.length;
    this.hint = new HintPath(w, config.numTasks);
    this.hyper = new TaskHyperNet(w, n);
    this.zeroConvs = Array.from({ length: n }, (_, i) => new Conv2d(w.at(`zero_convs.${i}.0`)));
    this.middleOut = new Conv2d(w.at('middle_block_out.0'));
  }

  /** Number of residuals `forward` returns (input blocks + middle). */
  get numControls(): number {
    return this.zeroConvs.length + 1;
  }

  /**
   * The condition's part of an evaluation for a batch of `batch` latents: the task embedding's
   * zero-convolution scales and the hint path's feature.
   */
  condition(input: ControlInput, batch: number, options: { version?: ControlNetConfig['version']; probe?: Probe } = {}): ControlCondition {
    const { version = this.config.version, probe } = options;
    const feature = input.taskFeature.reshape([1, input.taskFeature.shape[input.taskFeature.rank - 1]]);
    const taskEmb = this.hyper.embed(feature);
    probe?.('task_id_emb', taskEmb);
    const hintScales = this.hyper.hintScales(taskEmb, batch);
    probe?.('hint_zeroconv0_scale', hintScales.zeroConv0);
    probe?.('hint_zeroconv1_scale', hintScales.zeroConv1);
    const hint = this.hint.forward(input.adapters, hintScales, version, probe);
    const zeroConvScales = this.zeroConvs.map((_, i) => {
      const scale = this.hyper.layerScale(taskEmb, i, batch);
      probe?.(`zero_conv_scale.${i}`, scale);
      return scale;
    });
    return { hint, zeroConvScales };
  }

  /** Every cross-attention layer (the readers of the text context). */
  crossAttentions(): CrossAttention[] {
    return this.encoder.crossAttentions();
  }

  /**
   * @param context text embeddings `[batch, tokens, contextDim]`, or a `TextContext`
   * @param control the condition, or its part computed beforehand by `condition` (for x's batch)
   * @returns one residual per input block (shapes of the UNet's skips) then the middle block's
   */
  forward(x: Tensor, t: Tensor, context: Tensor | TextContext, control: ControlInput | ControlCondition, options: { version?: ControlNetConfig['version']; probe?: Probe } = {}): Tensor[] {
    const { probe } = options;
    const text = textContext(context);
    const batch = x.shape[0];
    if (!('adapters' in control) && control.hint.shape[0] !== batch) {
      throw new RangeError(`ControlNet: the condition was prepared for a batch of ${control.hint.shape[0]}, the latents [${x.shape.join(', ')}] have ${batch}`);
    }
    const { hint, zeroConvScales } = 'adapters' in control ? this.condition(control, batch, options) : control;
    const emb = this.encoder.timeEmbedding(t);
    probe?.('emb', emb);
    const embSilu = silu(emb);

    const outs: Tensor[] = [];
    let h = x;
    this.encoder.inputBlocks.forEach((block, i) => {
      const next = x.device.scope(() => {
        const out = block.forward(h, embSilu, text);
        if (i > 0) return out;
        probe?.('input_block0_out', out);
        const withHint = add(out, hint);
        probe?.('input_block0_out_plus_hint', withHint);
        return withHint;
      });
      if (h !== x) h.dispose();
      h = next;
      outs.push(this.zeroConvs[i].forward(h, { inputScale: zeroConvScales[i] }));
    });
    h = this.encoder.middleForward(h, embSilu, text);
    outs.push(this.middleOut.forward(h));
    return outs;
  }
}

