// CLIP ViT-L/14's text transformer (Hugging Face CLIPTextModel): pre-LayerNorm, causal
// self-attention, quick-GELU MLP, final LayerNorm; the output is the last hidden state.

import { add, attention, gather, quickGelu, tensor, type Device, type Tensor } from '@unicontrol/core';
import type { ClipConfig } from '../config.ts';
import { LayerNorm, Linear } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';

class ClipLayer {
  private readonly norm1: LayerNorm;
  private readonly norm2: LayerNorm;
  private readonly q: Linear;
  private readonly k: Linear;
  private readonly v: Linear;
  private readonly out: Linear;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    w: WeightScope,
    private readonly c: ClipConfig,
  ) {
    this.norm1 = new LayerNorm(w.at('layer_norm1'), c.layerNormEps);
    this.norm2 = new LayerNorm(w.at('layer_norm2'), c.layerNormEps);
    this.q = new Linear(w.at('self_attn.q_proj'));
    this.k = new Linear(w.at('self_attn.k_proj'));
    this.v = new Linear(w.at('self_attn.v_proj'));
    this.out = new Linear(w.at('self_attn.out_proj'));
    this.fc1 = new Linear(w.at('mlp.fc1'));
    this.fc2 = new Linear(w.at('mlp.fc2'));
  }

  forward(x: Tensor): Tensor {
    const h = this.norm1.forward(x);
    const a = attention(this.q.forward(h), this.k.forward(h), this.v.forward(h), { heads: this.c.numHeads, causal: true });
    x = add(x, this.out.forward(a));
    return add(x, this.fc2.forward(quickGelu(this.fc1.forward(this.norm2.forward(x)))));
  }
}

/** The text encoder: token ids `[batch, tokens]` → hidden states `[batch, tokens, hiddenSize]`. */
export class ClipTextEncoder {
  private readonly tokenEmbedding: Tensor[];
  private readonly positionEmbedding: Tensor;
  private readonly layers: ClipLayer[];
  private readonly finalNorm: LayerNorm;

  constructor(
    w: WeightScope,
    readonly config: ClipConfig,
  ) {
    this.tokenEmbedding = w.rows('embeddings.token_embedding.weight');
    this.positionEmbedding = w.get('embeddings.position_embedding.weight');
    this.layers = Array.from({ length: config.numLayers }, (_, l) => new ClipLayer(w.at(`encoder.layers.${l}`), config));
    this.finalNorm = new LayerNorm(w.at('final_layer_norm'), config.layerNormEps);
  }

  /**
   * @param ids token ids, i32 `[batch, tokens]` (tokens ≤ maxPositions; `ClipTokenizer.tokenize`
   *   gives them for `[batch, 77]`)
   * @returns the last hidden state `[batch, tokens, hiddenSize]`
   */
  forward(ids: Tensor): Tensor {
    const [batch, tokens] = ids.shape;
    if (ids.rank !== 2 || ids.dtype !== 'i32') throw new Error(`ClipTextEncoder: ids must be i32 [batch, tokens], got ${ids.dtype} [${ids.shape.join(', ')}]`);
    if (tokens > this.config.maxPositions) {
      throw new RangeError(`ClipTextEncoder: ${tokens} tokens per row exceed the ${this.config.maxPositions} positions of the model`);
    }
    const device = ids.device;
    const positions = positionIds(device, batch, tokens);
    let x = add(gather(this.tokenEmbedding, ids), gather(this.positionEmbedding, positions));
    for (const layer of this.layers) x = layer.forward(x);
    return this.finalNorm.forward(x);
  }
}

function positionIds(device: Device, batch: number, tokens: number): Tensor {
  const ids = new Int32Array(batch * tokens);
  for (let i = 0; i < ids.length; i++) ids[i] = i % tokens;
  return tensor(device, ids, [batch, tokens], { dtype: 'i32' });
}
