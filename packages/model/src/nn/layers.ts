// The parameterised layers every model part is built from: thin holders of a module's weights
// whose forward is one core op.

import { conv2d, groupNorm, layerNorm, linear, type Conv2dOptions, type Tensor } from '@unicontrol/core';
import { NORM_GROUPS } from '../config.ts';
import type { WeightScope } from '../weights/weights.ts';

/** nn.Conv2d: `weight` `[out, in, k, k]` and `bias` `[out]` under the scope. */
export class Conv2d {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    w: WeightScope,
    readonly geometry: { stride?: number; padding?: number } = {},
  ) {
    this.weight = w.get('weight');
    this.bias = w.get('bias');
  }

  /** `x` `[batch, in, H, W]`; epilogue options (activation, residual, input scale) run in the same pass. */
  forward(x: Tensor, epilogue: Omit<Conv2dOptions, 'bias' | 'stride' | 'padding'> = {}): Tensor {
    return conv2d(x, this.weight, { ...this.geometry, ...epilogue, bias: this.bias });
  }
}

/** nn.Linear: `weight` `[out, in]`, optional `bias` `[out]`; applies to the last axis. */
export class Linear {
  readonly weight: Tensor;
  readonly bias?: Tensor;

  constructor(w: WeightScope, { bias = true }: { bias?: boolean } = {}) {
    this.weight = w.get('weight');
    if (bias) this.bias = w.get('bias');
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** nn.GroupNorm with Stable Diffusion's 32 groups; `silu` fuses the SiLU that usually follows. */
export class GroupNorm {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    w: WeightScope,
    readonly eps: number,
  ) {
    this.weight = w.get('weight');
    this.bias = w.get('bias');
  }

  forward(x: Tensor, { silu = false }: { silu?: boolean } = {}): Tensor {
    return groupNorm(x, { groups: NORM_GROUPS, eps: this.eps, weight: this.weight, bias: this.bias, silu });
  }
}

/** nn.LayerNorm over the last axis. */
export class LayerNorm {
  private readonly weight: Tensor;
  private readonly bias: Tensor;

  constructor(
    w: WeightScope,
    private readonly eps: number,
  ) {
    this.weight = w.get('weight');
    this.bias = w.get('bias');
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, { eps: this.eps, weight: this.weight, bias: this.bias });
  }
}
