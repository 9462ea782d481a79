// The condition image's path into the ControlNet: a per-task adapter ("MOE-style"), a shared
// block, and two HyperNet-modulated zero-convolutions.

import { add, mulScalar, type Tensor } from '@unicontrol/core';
import type { ControlNetVersion } from '../config.ts';
import { Conv2d } from '../nn/layers.ts';
import { HINT_MOE_CHANNELS, HINT_SHARE_CHANNELS } from '../weights/prefixes.ts';
import type { WeightScope } from '../weights/weights.ts';
import type { Probe } from './probe.ts';

/** 3x3 convolutions with SiLU after each; the last of the adapter strides by 2, and so do the shared block's 2nd and 4th. */
class ConvStack {
  private readonly convs: Conv2d[];

  constructor(w: WeightScope, count: number, strided: (i: number) => boolean) {
    this.convs = Array.from({ length: count }, (_, i) => new Conv2d(w.at(2 * i), { padding: 1, stride: strided(i) ? 2 : 1 }));
  }

  forward(x: Tensor): Tensor {
    for (const conv of this.convs) x = conv.forward(x, { activation: 'silu' });
    return x;
  }
}

/**
 * A zero-convolution whose 3x3 weight is scaled per input channel by the task HyperNet
 * (`[0]`), plus, in v1.1, a plain 3x3 convolution of the same input (`[1]`).
 */
class ModulatedZeroConv {
  private readonly modulated: Conv2d;
  private readonly plain: Conv2d;

  constructor(w: WeightScope) {
    this.modulated = new Conv2d(w.at(0), { padding: 1 });
    this.plain = new Conv2d(w.at(1), { padding: 1 });
  }

  forward(x: Tensor, scale: Tensor, version: ControlNetVersion): Tensor {
    const residual = version === 'v1.1' ? this.plain.forward(x) : undefined;
    return this.modulated.forward(x, { inputScale: scale, residual });
  }
}

/** Everything between the condition image and the feature added after the ControlNet's first block. */
export class HintPath {
  private readonly adapters: ConvStack[];
  private readonly shared: ConvStack;
  private readonly zeroConv0: ModulatedZeroConv;
  private readonly zeroConv1: ModulatedZeroConv;

  constructor(w: WeightScope, numTasks: number) {
    const moe = w.at('input_hint_block_list_moe');
    this.adapters = Array.from({ length: numTasks }, (_, t) => new ConvStack(moe.at(t), HINT_MOE_CHANNELS.length, (i) => i === HINT_MOE_CHANNELS.length - 1));
    this.shared = new ConvStack(w.at('input_hint_block_share'), HINT_SHARE_CHANNELS.length, (i) => i % 2 === 1);
    this.zeroConv0 = new ModulatedZeroConv(w.at('input_hint_block_zeroconv_0'));
    this.zeroConv1 = new ModulatedZeroConv(w.at('input_hint_block_zeroconv_1'));
  }

  get numTasks(): number {
    return this.adapters.length;
  }

  /** Σ wᵢ·adapterᵢ(hintᵢ) / Σ wᵢ over the adapters of non-zero weight. */
  private mix(inputs: readonly AdapterInput[]): Tensor {
    const used = inputs.filter((a) => a.weight !== 0);
    const total = used.reduce((s, a) => s + a.weight, 0);
    if (used.length === 0 || !(total > 0) || used.some((a) => !(a.weight > 0) || !Number.isFinite(a.weight))) {
      throw new RangeError(`ControlNet: adapter weights must be finite, ≥ 0 and not all 0; got ${inputs.map((a) => a.weight).join(', ')}`);
    }
    for (const a of used) {
      if (!Number.isInteger(a.task) || a.task < 0 || a.task >= this.adapters.length) {
        throw new RangeError(`ControlNet: task ${a.task} is not one of the ${this.adapters.length} hint adapters (0–${this.adapters.length - 1})`);
      }
    }
    if (used.length === 1 && used[0].weight === 1) return this.adapters[used[0].task].forward(used[0].hint);
    let sum: Tensor | undefined;
    for (const a of used) {
      const f = mulScalar(this.adapters[a.task].forward(a.hint), a.weight / total);
      sum = sum ? add(sum, f) : f;
    }
    return sum!;
  }

  /**
   * @param adapters the conditions and their task adapters: condition images `[batch,
   *   hintChannels, H, W]` (values in [0, 1], all the same size), adapter index and weight. Several
   *   adapters' features are averaged with the weights (UniControl's multi-condition mixing); a
   *   single adapter of weight 1 is exactly the official single-task path.
   * @param scales the HyperNet's per-input-channel scales of the two zero-convolutions, `[batch, C]`
   * @returns `[batch, modelChannels, H/8, W/8]`
   */
  forward(adapters: readonly AdapterInput[], scales: { zeroConv0: Tensor; zeroConv1: Tensor }, version: ControlNetVersion, probe?: Probe): Tensor {
    const moeOut = this.mix(adapters);
    probe?.('hint_moe_out', moeOut);
    const shareIn = this.zeroConv0.forward(moeOut, scales.zeroConv0, version);
    probe?.('hint_share_in', shareIn);
    const shareOut = this.shared.forward(shareIn);
    probe?.('hint_share_out', shareOut);
    return this.zeroConv1.forward(shareOut, scales.zeroConv1, version);
  }
}

/** One condition on the hint path: its image, the task adapter that reads it, and its weight. */
export interface AdapterInput {
  hint: Tensor;
  task: number;
  weight: number;
}
