// The attention pieces of Stable Diffusion's transformer blocks (ldm.modules.attention).

import { add, attention, geglu, Tensor } from '@unicontrol/core';
import type { WeightScope } from '../weights/weights.ts';
import { LayerNorm, Linear } from './layers.ts';
import { sequence } from './steps.ts';

/** One attention layer's keys and values, `[batch, tokens, channels]` each. */
export interface KeysValues {
  keys: Tensor;
  values: Tensor;
}

/**
 * What the cross-attention layers attend to: CLIP's embeddings `[batch, tokens, contextDim]`, and,
 * when prepared for a sampling run (`UniControlModel.prepareContext`), each layer's keys and values
 * of them, which do not change between steps.
 */
export interface TextContext {
  readonly embeddings: Tensor;
  readonly prepared?: ReadonlyMap<CrossAttention, KeysValues>;
}

/** Embeddings `[batch, tokens, contextDim]` as a `TextContext` with nothing prepared; a context as it is. */
export function textContext(context: Tensor | TextContext): TextContext {
  return context instanceof Tensor ? { embeddings: context } : context;
}

/**
 * Multi-head attention with bias-free q/k/v projections and a biased output projection
 * (`attn1`: self-attention; `attn2`: cross-attention to the text context).
 */
export class CrossAttention {
  private readonly toQ: Linear;
  private readonly toK: Linear;
  private readonly toV: Linear;
  private readonly toOut: Linear;

  constructor(
    w: WeightScope,
    private readonly heads: number,
  ) {
    this.toQ = new Linear(w.at('to_q'), { bias: false });
    this.toK = new Linear(w.at('to_k'), { bias: false });
    this.toV = new Linear(w.at('to_v'), { bias: false });
    this.toOut = new Linear(w.at('to_out.0'));
  }

  /** The keys and values of `source` `[batch, tokens, sourceDim]`. */
  keysValues(source: Tensor): KeysValues {
    return { keys: this.toK.forward(source), values: this.toV.forward(source) };
  }

  /**
   * @param x `[batch, tokens, channels]`
   * @param context the text context, its keys and values taken as prepared for this layer when
   *   they are; x itself when absent (self-attention)
   */
  forward(x: Tensor, context?: TextContext): Tensor {
    const { keys, values } = context ? (context.prepared?.get(this) ?? this.keysValues(context.embeddings)) : this.keysValues(x);
    return this.toOut.forward(attention(this.toQ.forward(x), keys, values, { heads: this.heads }));
  }
}

/** GEGLU feed-forward: `proj` to 2·inner, value · gelu(gate), then back to the width. */
export class FeedForward {
  private readonly proj: Linear;
  private readonly out: Linear;

  constructor(w: WeightScope) {
    this.proj = new Linear(w.at('net.0.proj'));
    this.out = new Linear(w.at('net.2'));
  }

  forward(x: Tensor): Tensor {
    return this.out.forward(geglu(this.proj.forward(x)));
  }
}

/** Pre-norm transformer block: self-attention, cross-attention, feed-forward, each residual. */
export class BasicTransformerBlock {
  private readonly norm1: LayerNorm;
  private readonly norm2: LayerNorm;
  private readonly norm3: LayerNorm;
  private readonly attn1: CrossAttention;
  private readonly attn2: CrossAttention;
  private readonly ff: FeedForward;

  constructor(w: WeightScope, heads: number, eps: number) {
    this.norm1 = new LayerNorm(w.at('norm1'), eps);
    this.norm2 = new LayerNorm(w.at('norm2'), eps);
    this.norm3 = new LayerNorm(w.at('norm3'), eps);
    this.attn1 = new CrossAttention(w.at('attn1'), heads);
    this.attn2 = new CrossAttention(w.at('attn2'), heads);
    this.ff = new FeedForward(w.at('ff'));
  }

  /** The block's cross-attention layer (the text context's reader). */
  get crossAttention(): CrossAttention {
    return this.attn2;
  }

  /** `x` `[batch, tokens, channels]`. */
  forward(x: Tensor, context: TextContext): Tensor {
    return sequence(x, [
      (h) => add(h, this.attn1.forward(this.norm1.forward(h))),
      (h) => add(h, this.attn2.forward(this.norm2.forward(h), context)),
      (h) => add(h, this.ff.forward(this.norm3.forward(h))),
    ]);
  }
}
