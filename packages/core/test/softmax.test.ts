import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { softmax } from '../src/ops/softmax.ts';
import { softmaxCpu } from '../src/reference/attention.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

// Sizes that are no multiple of the 8 rows per workgroup, a single element, and long rows.
const SHAPES = [[1], [7], [3, 5], [2, 3, 17], [2, 1, 1, 1], [1, 33], [2, 8, 77, 77], [3, 1000], [9, 4096]];

describe('softmax over the last axis matches the CPU reference', () => {
  it('float32, any rank', async () => {
    const device = await testDevice();
    const r = rng();
    for (const shape of SHAPES) {
      const { host, gpu } = randomPair(device, shape, r, { scale: 3 });
      // f32 exp (a few ulps) and a sequential f32 sum over up to 4096 terms (rounding grows with
      // the row length: ~2e-6 measured at 4096)
      await expectClose(softmax(gpu), softmaxCpu(host), 1e-5, `${shape}`);
    }
  });

  it('sums a long row without drift: one large value and 4095 equal smaller ones', async () => {
    const device = await testDevice();
    // Equal terms round alike, so a running f32 sum over the row errs the same way 4095 times:
    // 2.0e-5 measured; summed in blocks of 64, 1.0e-6.
    const xs = Array.from({ length: 4096 }, (_, j) => (j === 0 ? 1 : 0));
    const x = ops.tensor(device, xs, [1, 4096]);
    await expectClose(softmax(x), softmaxCpu({ shape: [1, 4096], data: Float64Array.from(xs) }), 1e-5);
  });

  it('is stable for large inputs (subtracts the row max)', async () => {
    const device = await testDevice();
    const xs = [1000, 1001, 999, -1000, 88, 89];
    const x = ops.tensor(device, xs, [2, 3]);
    await expectClose(softmax(x), softmaxCpu({ shape: [2, 3], data: Float64Array.from(xs) }), 1e-6);
  });

  it('rows of a constant and a single -inf-like value', async () => {
    const device = await testDevice();
    const x = ops.tensor(device, [2, 2, 2, 0, -3e38, 0], [2, 3]);
    const got = await softmax(x).read();
    expect(Array.from(got)).toEqual([1 / 3, 1 / 3, 1 / 3, 0.5, 0, 0.5].map(Math.fround));
  });

  it('float16 storage computes in f32 and rounds once', async () => {
    const device = await testDevice();
    const r = rng();
    for (const shape of [[5, 17], [2, 4, 77]]) {
      const { host, gpu } = randomPair(device, shape, r, { scale: 3, dtype: 'f16' });
      const y = softmax(gpu);
      expect(y.dtype).toBe('f16');
      // one rounding to f16 of each output: ≤ 2^-11 relative, plus f32 arithmetic
      await expectClose(y, softmaxCpu(host), 2 ** -11 + 1e-5, `${shape}`);
    }
  });

  it('scale, causal mask and output dtype (the score path of attention)', async () => {
    const device = await testDevice();
    const r = rng();
    // [batch·heads, Lq, Lk] with Lq ≠ Lk: query row i keeps keys j ≤ i, top-left aligned.
    const shape = [3, 5, 9];
    const { host, gpu } = randomPair(device, shape, r, { scale: 3 });
    const scale = -0.7;
    const masked = Float64Array.from(host.data, (x, idx) => ((idx % 9) > (Math.floor(idx / 9) % 5) ? -Infinity : scale * x));
    const want = softmaxCpu({ shape, data: masked });
    await expectClose(softmax(gpu, { scale, causal: true }), want, 1e-6, 'causal, scale -0.7');
    const half = softmax(gpu, { scale, causal: true, dtype: 'f16' });
    expect(half.dtype).toBe('f16');
    await expectClose(half, want, 2 ** -11 + 1e-6, 'causal, f16 result');
    // A chunk of rows from further down the sequence: its first row is query 2.
    const shifted = Float64Array.from(host.data, (x, idx) => ((idx % 9) > (Math.floor(idx / 9) % 5) + 2 ? -Infinity : scale * x));
    await expectClose(softmax(gpu, { scale, causal: true, queryOffset: 2 }), softmaxCpu({ shape, data: shifted }), 1e-6, 'causal from query 2');
    expect(() => softmax(ops.zeros(device, [4]), { causal: true })).toThrow('softmax: causal needs a query axis before the key axis, got [4]');
    expect(() => softmax(gpu, { causal: true, queryOffset: -1 })).toThrow('softmax: queryOffset must be an integer ≥ 0, got -1');
  });

  it('keeps empty tensors empty and rejects scalars and integer tensors', async () => {
    const device = await testDevice();
    expect(softmax(ops.zeros(device, [3, 0])).shape).toEqual([3, 0]);
    expect(() => softmax(ops.zeros(device, []))).toThrow('softmax: needs at least one axis, got a scalar []');
    expect(() => softmax(ops.zeros(device, [2], 'i32'))).toThrow('softmax: input 0 has dtype i32, expected float');
  });
});
