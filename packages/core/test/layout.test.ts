import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { concat, permute, slice, sliceAxis, transpose, upsampleNearest2x } from '../src/ops/layout.ts';
import { concatCpu, permuteCpu, sliceCpu, upsampleNearest2xCpu } from '../src/reference/layout.ts';
import type { HostTensor } from '../src/reference/host.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

type Dt = 'f32' | 'f16' | 'i32';
const DTYPES: Dt[] = ['f32', 'f16', 'i32'];

/** A random tensor of `dtype` and its host twin (i32: small integers; f16: values rounded to f16). */
function pair(device: ops.Device, shape: number[], r: ReturnType<typeof rng>, dtype: Dt): { host: HostTensor; gpu: ops.Tensor } {
  if (dtype !== 'i32') return randomPair(device, shape, r, { dtype });
  const data = Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(r.uniform() * 2000) - 1000);
  return { host: { shape, data: Float64Array.from(data) }, gpu: ops.tensor(device, data, shape) };
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

// Layout ops move values without arithmetic: results must be exact.
describe('permute and transpose', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: every permutation of ranks 1–4, odd sizes`, async () => {
      const device = await testDevice();
      const r = rng();
      for (const shape of [[5], [3, 7], [2, 3, 5], [2, 3, 1, 4], [1, 320, 3, 5]]) {
        const x = pair(device, shape, r, dtype);
        for (const dims of permutations(shape.length)) {
          await expectClose(permute(x.gpu, dims), permuteCpu(x.host, dims), 0, `${shape} ${dims}`);
        }
      }
    });
  }

  it('rank 8 and negative dims', async () => {
    const device = await testDevice();
    const r = rng();
    const shape = [2, 3, 1, 2, 3, 2, 1, 3];
    const x = pair(device, shape, r, 'f32');
    const dims = [7, 5, 0, 3, 6, 1, 4, 2];
    await expectClose(permute(x.gpu, dims), permuteCpu(x.host, dims), 0);
    await expectClose(permute(x.gpu, [-1, 0, 1, 2, 3, 4, 5, -2]), permuteCpu(x.host, [7, 0, 1, 2, 3, 4, 5, 6]), 0);
  });

  it('transpose swaps two axes, negative axes allowed', async () => {
    const device = await testDevice();
    const r = rng();
    const x = pair(device, [2, 77, 8, 5], r, 'f16');
    await expectClose(transpose(x.gpu, 1, 2), permuteCpu(x.host, [0, 2, 1, 3]), 0);
    await expectClose(transpose(x.gpu, -1, -2), permuteCpu(x.host, [0, 1, 3, 2]), 0);
    await expectClose(transpose(x.gpu, 0, 0), x.host, 0);
  });

  it('rejects dims that are no permutation', async () => {
    const device = await testDevice();
    const x = ops.zeros(device, [2, 3]);
    expect(() => permute(x, [0, 0])).toThrow('permute: dims [0, 0] are not a permutation of the axes of x [2, 3]');
    expect(() => permute(x, [0])).toThrow('permute: dims [0] are not a permutation of the axes of x [2, 3]');
    expect(() => permute(x, [0, 2])).toThrow('permute: axis 2 out of range for rank 2');
    expect(() => transpose(x, 0, 5)).toThrow('transpose: axis 5 out of range for rank 2');
    expect(() => permute(ops.zeros(device, [1, 1, 1, 1, 1, 1, 1, 1, 1]), [0, 1, 2, 3, 4, 5, 6, 7, 8])).toThrow(
      'permute: rank of x [1, 1, 1, 1, 1, 1, 1, 1, 1] exceeds 8',
    );
  });
});

describe('slice', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: boxes, negative indices, partial axis lists, empty ranges`, async () => {
      const device = await testDevice();
      const r = rng();
      const x = pair(device, [3, 7, 5, 4], r, dtype);
      const cases: [number[], number[], number[], number[]][] = [
        // [starts, ends, resolved starts, resolved ends]
        [[0, 0, 0, 0], [3, 7, 5, 4], [0, 0, 0, 0], [3, 7, 5, 4]],
        [[1, 2, 1, 1], [3, 5, 4, 3], [1, 2, 1, 1], [3, 5, 4, 3]],
        [[0, -3], [2, -1], [0, 4, 0, 0], [2, 6, 5, 4]],
        [[2], [3], [2, 0, 0, 0], [3, 7, 5, 4]],
        [[0, 0, 0, 3], [3, 7, 5, 4], [0, 0, 0, 3], [3, 7, 5, 4]],
        [[1, 3], [1, 5], [1, 3, 0, 0], [1, 5, 5, 4]],
        [[0, 0, 2, 0], [3, 7, 2, 4], [0, 0, 2, 0], [3, 7, 2, 4]],
      ];
      for (const [starts, ends, lo, hi] of cases) {
        await expectClose(slice(x.gpu, starts, ends), sliceCpu(x.host, lo, hi), 0, `${starts} ${ends}`);
      }
      await expectClose(sliceAxis(x.gpu, -1, 1, 3), sliceCpu(x.host, [0, 0, 0, 1], [3, 7, 5, 3]), 0);
      await expectClose(sliceAxis(x.gpu, 1, 4, 4), sliceCpu(x.host, [0, 4, 0, 0], [3, 4, 5, 4]), 0);
    });
  }

  it('rejects ranges outside the axis or reversed', async () => {
    const device = await testDevice();
    const x = ops.zeros(device, [4, 5]);
    expect(() => slice(x, [0, 0], [5, 5])).toThrow('slice: starts [0, 0], ends [5, 5] for x [4, 5]: axis 0 range 0..5 is outside 0..4 or reversed');
    expect(() => slice(x, [0, 3], [4, 2])).toThrow('axis 1 range 3..2 is outside 0..5 or reversed');
    expect(() => slice(x, [0], [1, 2])).toThrow('slice: starts [0], ends [1, 2] for x [4, 5]: need one start and one end per axis');
    expect(() => slice(x, [0, 0, 0], [1, 1, 1])).toThrow('need one start and one end per axis');
  });
});

describe('concat', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: along every axis (negative too) of 3+ tensors of different sizes`, async () => {
      const device = await testDevice();
      const r = rng();
      const base = [2, 3, 4, 5];
      for (let axis = 0; axis < base.length; axis++) {
        const sizes = [1, 3, 0, 2, 7];
        const parts = sizes.map((s) => pair(device, base.map((d, i) => (i === axis ? s : d)), r, dtype));
        const want = concatCpu(parts.map((p) => p.host), axis);
        await expectClose(concat(parts.map((p) => p.gpu), axis), want, 0, `axis ${axis}`);
        await expectClose(concat(parts.map((p) => p.gpu), axis - base.length), want, 0, `axis ${axis - base.length}`);
      }
      const one = pair(device, [2, 3], r, dtype);
      await expectClose(concat([one.gpu], 1), one.host, 0);
    });
  }

  for (const dtype of DTYPES) {
    it(`${dtype}: long contiguous runs (buffer copies) next to short ones (kernel)`, async () => {
      const device = await testDevice();
      const r = rng();
      const parts = [[2, 320, 8, 8], [2, 1, 8, 8], [2, 17, 8, 8], [2, 640, 8, 8]].map((shape) => pair(device, shape, r, dtype));
      await expectClose(concat(parts.map((p) => p.gpu), 1), concatCpu(parts.map((p) => p.host), 1), 0, 'channels');
      const big = pair(device, [3, 2051], r, dtype);
      // odd f16 offsets are not 4-byte aligned: these fall back to the kernel
      await expectClose(slice(big.gpu, [0, 1], [3, 2051]), sliceCpu(big.host, [0, 1], [3, 2051]), 0, 'offset 1');
      await expectClose(slice(big.gpu, [1, 2], [3, 2050]), sliceCpu(big.host, [1, 2], [3, 2050]), 0, 'offset 2');
      await expectClose(concat([big.gpu, big.gpu, big.gpu], 0), concatCpu([big.host, big.host, big.host], 0), 0, 'rows');
    });
  }

  it('rejects mismatched shapes and dtypes', async () => {
    const device = await testDevice();
    const a = ops.zeros(device, [2, 3]);
    expect(() => concat([a, ops.zeros(device, [3, 3]), a], 1)).toThrow('concat: shapes [2, 3], [3, 3], [2, 3] differ outside axis 1');
    expect(() => concat([a, ops.zeros(device, [2])], 0)).toThrow('concat: shapes [2, 3], [2] differ outside axis 0');
    expect(() => concat([a, ops.zeros(device, [2, 3], 'f16')], 0)).toThrow('concat: dtypes differ (f32 vs f16)');
    expect(() => concat([], 0)).toThrow('concat: no tensors to join');
    expect(() => concat([a], 2)).toThrow('concat: axis 2 out of range for rank 2');
  });
});

describe('upsampleNearest2x', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: [batch, C, H, W] -> [batch, C, 2H, 2W]`, async () => {
      const device = await testDevice();
      const r = rng();
      for (const shape of [[1, 1, 1, 1], [2, 3, 5, 7], [1, 4, 1, 9], [2, 1, 6, 1], [1, 320, 8, 8], [1, 3, 2, 37]]) {
        const x = pair(device, shape, r, dtype);
        await expectClose(upsampleNearest2x(x.gpu), upsampleNearest2xCpu(x.host), 0, `${shape}`);
      }
    });
  }

  it('rejects tensors that are not 4-D', async () => {
    const device = await testDevice();
    expect(() => upsampleNearest2x(ops.zeros(device, [3, 4, 5]))).toThrow('upsampleNearest2x: x must have rank 4, got [3, 4, 5]');
  });
});
