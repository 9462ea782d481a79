import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { timestepEmbedding } from '../src/ops/embedding.ts';
import { timestepEmbeddingCpu } from '../src/reference/embedding.ts';
import { expectClose, rng, testDevice } from './helpers.ts';

/**
 * Error bound of the f32 kernel against exact math. The argument t·freq is formed in f32 (as in
 * the PyTorch original): freq from f32 exp carries a few ulp (~2^-22 relative) and the product one
 * more rounding (2^-24), so the argument is off by up to ~|t|·2^-21; sin and cos of the reduced
 * argument add ~1e-6. For t = 999 that is ~5e-4 — the price of f32, same as PyTorch's (measured
 * on lavapipe: 1.0e-4 at t = 999, 1e-7 at t = 1).
 */
const f32Bound = (maxT: number): number => maxT * 2 ** -21 + 2e-6;

describe('timestepEmbedding', () => {
  it('f32: Stable Diffusion timesteps 0..999 and odd, tiny and wide dims', async () => {
    const device = await testDevice();
    const r = rng();
    for (const dim of [320, 7, 2, 1, 64, 1281]) {
      const t = Float32Array.from([0, 1, 999, 500, 0.5, ...Array.from({ length: 5 }, () => Math.floor(r.uniform() * 1000))]);
      const got = timestepEmbedding(ops.tensor(device, t, [t.length]), dim);
      await expectClose(got, timestepEmbeddingCpu(t, dim), f32Bound(999), `dim ${dim}`);
    }
  });

  it('f32: small timesteps are accurate to ~1e-6, and maxPeriod is honoured', async () => {
    const device = await testDevice();
    const r = rng();
    const t = Float32Array.from({ length: 9 }, () => r.uniform() * 2);
    await expectClose(timestepEmbedding(ops.tensor(device, t, [9]), 33), timestepEmbeddingCpu(t, 33), f32Bound(2));
    await expectClose(
      timestepEmbedding(ops.tensor(device, t, [9]), 16, { maxPeriod: 100 }),
      timestepEmbeddingCpu(t, 16, 100),
      f32Bound(2),
    );
  });

  it('f16 storage: t rounded to f16 on both sides, the output rounded once more (2^-12 absolute)', async () => {
    const device = await testDevice();
    const t = Float32Array.from([0, 1, 999, 250, 17]); // all exact in f16
    const got = timestepEmbedding(ops.tensor(device, t, [5], { dtype: 'f16' }), 320);
    expect(got.dtype).toBe('f16');
    await expectClose(got, timestepEmbeddingCpu(t, 320), f32Bound(999) + 2 ** -12);
  });

  it('rejects bad arguments', async () => {
    const device = await testDevice();
    expect(() => timestepEmbedding(ops.zeros(device, [2, 1]), 8)).toThrow('timestepEmbedding: t must have rank 1, got [2, 1]');
    expect(() => timestepEmbedding(ops.zeros(device, [2]), 2.5)).toThrow('timestepEmbedding: dim must be a non-negative integer, got 2.5 (t [2])');
    expect(() => timestepEmbedding(ops.zeros(device, [2]), 8, { maxPeriod: 0 })).toThrow('timestepEmbedding: maxPeriod must be positive, got 0');
  });
});
