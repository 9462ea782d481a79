import { concat, silu, type Tensor } from '@unicontrol/core';
import { Linear } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';

/**
 * The task-aware HyperNet: task feature → task embedding (Linear, SiLU, Linear, SiLU), and
 * per-layer linear heads giving the per-input-channel scales of each zero-convolution.
 */
export class TaskHyperNet {
  private readonly l1: Linear;
  private readonly l2: Linear;
  /** One head per ControlNet input block (for `zero_convs[i]`). */
  private readonly layerHeads: Linear[];
  private readonly hintHead0: Linear;
  private readonly hintHead1: Linear;

  constructor(w: WeightScope, numInputBlocks: number) {
    this.l1 = new Linear(w.at('task_id_hypernet.0'));
    this.l2 = new Linear(w.at('task_id_hypernet.2'));
    this.layerHeads = Array.from({ length: numInputBlocks }, (_, i) => new Linear(w.at(`task_id_layernet.${i}`)));
    this.hintHead0 = new Linear(w.at('task_id_layernet_zeroconv_0'));
    this.hintHead1 = new Linear(w.at('task_id_layernet_zeroconv_1'));
  }

  /** `feature` `[1, featureDim]` → task embedding `[1, timeEmbedDim]`. */
  embed(feature: Tensor): Tensor {
    return silu(this.l2.forward(silu(this.l1.forward(feature))));
  }

  /** Scales `[batch, C]` of zero-conv `i` (the same task embedding repeated over the batch). */
  layerScale(taskEmb: Tensor, i: number, batch: number): Tensor {
    return repeatRows(this.layerHeads[i].forward(taskEmb), batch);
  }

  hintScales(taskEmb: Tensor, batch: number): { zeroConv0: Tensor; zeroConv1: Tensor } {
    return { zeroConv0: repeatRows(this.hintHead0.forward(taskEmb), batch), zeroConv1: repeatRows(this.hintHead1.forward(taskEmb), batch) };
  }
}

function repeatRows(row: Tensor, batch: number): Tensor {
  return batch === 1 ? row : concat(Array.from({ length: batch }, () => row), 0);
}
