// The model code is generic in the sizes the weights reveal: a random-weight checkpoint of another
// configuration (3 levels, 2 ResBlocks per level, attention only on deeper levels, depth-2
// transformers, 4 heads, other widths) loads and runs at batch 2 on non-square latents, and each
// sample of a batch equals that sample run alone.

import { describe, expect, it } from 'vitest';
import { bytesSource, createDevice, openSafetensors, sliceAxis, tensor, type Tensor } from '@unicontrol/core';
import { writeSafetensors, type TensorToWrite } from '../../core/test/safetensors-writer.ts';
import { UniControlModel, expectedKeys, type UniControlConfig } from '../src/index.ts';

const CONFIG: UniControlConfig = {
  unet: {
    inChannels: 4,
    outChannels: 4,
    modelChannels: 32,
    channelMult: [1, 2, 2],
    numResBlocks: 2,
    attentionLevels: [false, true, true],
    timeEmbedDim: 64,
    contextDim: 48,
    transformerDepth: 2,
    numHeads: 4,
    resnetEps: 1e-5,
    transformerNormEps: 1e-6,
    layerNormEps: 1e-5,
  },
  controlNet: { version: 'v1.1', hintChannels: 3, numTasks: 13, taskFeatureDim: 48 },
  clip: { vocabSize: 500, hiddenSize: 48, numLayers: 1, numHeads: 3, intermediateSize: 96, maxPositions: 77, layerNormEps: 1e-5 },
  vae: { inChannels: 3, outChannels: 3, ch: 32, chMult: [1, 2, 2, 2], numResBlocks: 2, zChannels: 4, embedDim: 4, scaleFactor: 0.18215, normEps: 1e-6 },
};
const SETTINGS = { unetHeads: 4, clipHeads: 3 };

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A safetensors file holding every key of CONFIG with random values of a sane scale. */
function randomCheckpoint(seed: number): Uint8Array {
  const next = rng(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const tensors: TensorToWrite[] = [];
  for (const [name, { shape, kind }] of expectedKeys(CONFIG)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Uint8Array;
    if (kind === 'int') {
      data = new Uint8Array(new BigInt64Array(n).map((_, i) => BigInt(i)).buffer);
    } else {
      const isNorm = shape.length === 1 && /norm[^.]*\.weight$/.test(name);
      const isBias = shape.length === 1 && !isNorm;
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: n }, (_, i) => {
        if (name === 'alphas_cumprod') return Math.cos(((i / 1000) * Math.PI) / 2) ** 2 * 0.999 + 1e-4;
        if (isNorm) return 1 + 0.1 * normal();
        if (isBias) return 0.05 * normal();
        return shape.length === 1 ? 0.01 : normal() / Math.sqrt(fanIn);
      });
      data = new Uint8Array(values.buffer);
    }
    tensors.push({ name, dtype: kind === 'int' ? 'I64' : 'F32', shape, data });
  }
  return writeSafetensors(tensors);
}

function randomInput(shape: number[], seed: number, scale = 1): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() * 2 - 1) * scale);
}

async function maxAbsDiff(a: Tensor, b: Float32Array | Tensor): Promise<number> {
  const x = await a.read();
  const y = b instanceof Float32Array ? b : await b.read();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

describe('a checkpoint of another configuration', () => {
  it('loads with the sizes it reveals and runs every part at batch 2 on non-square latents', async () => {
    const device = await createDevice();
    try {
      const reader = await openSafetensors(bytesSource(randomCheckpoint(7), 'random.safetensors'));
      const model = await UniControlModel.load(device, reader, { settings: SETTINGS });
      expect(model.config).toEqual(CONFIG);

      const [h, w] = [8, 12];
      const ids = tensor(device, Int32Array.from({ length: 2 * 77 }, (_, i) => (i * 37) % 500), [2, 77], { dtype: 'i32' });
      const context = model.encodeText(ids);
      expect(context.shape).toEqual([2, 77, 48]);
      const taskFeature = model.taskFeature(tensor(device, Int32Array.from({ length: 77 }, (_, i) => (i * 11) % 500), [1, 77], { dtype: 'i32' }));

      const x = tensor(device, randomInput([2, 4, h, w], 1), [2, 4, h, w]);
      const hint = tensor(device, randomInput([2, 3, 8 * h, 8 * w], 2, 0.5).map((v) => v + 0.5), [2, 3, 8 * h, 8 * w]);
      const t = tensor(device, [981, 17], [2]);
      const control = { hint, task: 'control_depth' as const, taskFeature, scales: 0.8 };
      const eps = model.applyModel(x, t, context, control);
      expect(eps.shape).toEqual([2, 4, h, w]);
      const both = (await eps.read()) as Float32Array;
      expect(both.every(Number.isFinite)).toBe(true);

      // Sample 1 alone equals sample 1 of the batch.
      const second = (tt: Tensor): Tensor => sliceAxis(tt, 0, 1, 2);
      const single = model.applyModel(second(x), tensor(device, [17], [1]), second(context), { ...control, hint: second(hint) });
      const batchHalf = both.subarray(both.length / 2);
      expect(await maxAbsDiff(single, batchHalf)).toBeLessThan(1e-4 * Math.max(...batchHalf.map(Math.abs)));

      const image = model.decode(x);
      expect(image.shape).toEqual([2, 3, 8 * h, 8 * w]);
      const posterior = model.encode(image);
      expect(posterior.latent.shape).toEqual([2, 4, h, w]);
      expect(((await posterior.latent.read()) as Float32Array).every(Number.isFinite)).toBe(true);
      model.dispose();
    } finally {
      device.destroy();
    }
  });
});
