import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import type { Device, Tensor } from '../src/index.ts';
import { matmulCpu } from '../src/reference/matmul.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';
import { variantDevices } from './subgroup-device.ts';

const SIZES = [1, 3, 7, 17, 33, 77, 130];
// float32 accumulation over K terms: for these sizes the error stays well under 1e-5 of the largest output.
const F32_TOL = 1e-5;
// float16 storage: inputs are rounded on both sides; the output is rounded once (≤ 2^-11 of its
// magnitude) after float32 accumulation.
const F16_TOL = 2 ** -11 + 1e-5;

type Opts = { transposeA?: boolean; transposeB?: boolean; bias?: boolean };

/** Runs matmul on random operands of the given (stored) shapes and checks it against the CPU. */
async function check(device: Device, variant: string, aShape: number[], bShape: number[], opts: Opts = {}, dtype: 'f32' | 'f16' = 'f32') {
  const r = rng();
  const a = randomPair(device, aShape, r, { dtype });
  const b = randomPair(device, bShape, r, { dtype });
  const n = opts.transposeB ? bShape[bShape.length - 2] : bShape[bShape.length - 1];
  const bias = opts.bias ? randomPair(device, [n], r, { dtype }) : undefined;
  const got = ops.matmul(a.gpu, b.gpu, { transposeA: opts.transposeA, transposeB: opts.transposeB, bias: bias?.gpu, variant });
  const want = matmulCpu(a.host, b.host, { transposeA: opts.transposeA, transposeB: opts.transposeB, bias: bias?.host });
  await expectClose(got, want, dtype === 'f16' ? F16_TOL : F32_TOL, `${variant} ${dtype} a ${aShape} b ${bShape} ${JSON.stringify(opts)}`);
  for (const t of [a.gpu, b.gpu, bias?.gpu, got]) t?.dispose();
}

for (const { variant, label, device: getDevice } of variantDevices(ops.MATMUL_VARIANTS, ['subgroup'])) {
  describe(`matmul (${label}) matches the CPU reference`, () => {
    it('over M, K, N that are no multiple of any tile', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      const r = rng();
      const pick = () => SIZES[Math.floor(r.uniform() * SIZES.length)];
      for (const m of SIZES) {
        for (const n of SIZES) {
          const k = pick();
          await check(device, variant, [m, k], [k, n]);
        }
      }
      for (const k of SIZES) await check(device, variant, [pick(), k], [k, pick()]);
    });

    it('broadcasts batch dimensions, with 2-D weights shared across the batch', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      const cases: [number[], number[]][] = [
        [[2, 3, 17, 7], [7, 33]],
        [[4, 77, 33], [33, 130]],
        [[2, 3, 5, 9], [2, 3, 9, 4]],
        [[1, 5, 9], [4, 9, 3]],
        [[3, 1, 4, 6], [2, 6, 5]],
        [[7, 3], [2, 2, 3, 17]],
      ];
      for (const [sa, sb] of cases) await check(device, variant, sa, sb);
    });

    it('reads transposed operands and adds the bias', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          for (const bias of [false, true]) {
            // Stored shapes: a [.., K, M] when transposeA, b [.., N, K] when transposeB.
            const [m, k, n] = [17, 33, 7];
            const a = transposeA ? [2, k, m] : [2, m, k];
            const b = transposeB ? [n, k] : [k, n];
            await check(device, variant, a, b, { transposeA, transposeB, bias });
            await check(device, variant, transposeA ? [3, 1] : [1, 3], transposeB ? [2, 3, 130, 3] : [2, 3, 3, 130], { transposeA, transposeB, bias });
          }
        }
      }
    });

    it('reads [M, K] A and [N, K] B 4 k at a time when K is a multiple of 4 (f32 and f16, batched, ragged M and N)', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      await check(device, variant, [2, 1, 19, 8], [3, 8, 45]);
      await check(device, variant, [7, 12], [2, 12, 5], { bias: true }, 'f16');
      await check(device, variant, [2, 36, 17], [36, 9], { transposeA: true });
      await check(device, variant, [2, 17, 36], [7, 36], { transposeB: true, bias: true });
      await check(device, variant, [3, 5, 40], [3, 33, 40], { transposeB: true });
      await check(device, variant, [2, 1, 19, 8], [3, 45, 8], { transposeB: true });
      await check(device, variant, [5, 64], [70, 64], { transposeB: true, bias: true }, 'f16');
      await check(device, variant, [2, 9, 4], [2, 3, 4], { transposeB: true }, 'f16');
    });

    it('reads [K, N] B 4 columns at a time when N is a multiple of 4, and tiles of 8, 16 or 32 rows by M', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      // 8-row tiles (M = 2, 7), 16 (M = 40: 32-row tiles would pad to 64), 32 (M = 77: rows 0-63,
      // then the last 13 rows as a second band of 16-row tiles; M = 133 and 130: a last band of
      // 8-row tiles, also with a batch of unshared B).
      await check(device, variant, [2, 44], [44, 40], { bias: true }, 'f16');
      await check(device, variant, [7, 12], [20, 12], { transposeB: true });
      await check(device, variant, [40, 16], [16, 12]);
      await check(device, variant, [77, 24], [24, 36], { bias: true });
      await check(device, variant, [2, 77, 24], [2, 24, 36], { bias: true }, 'f16');
      // M = 150: the last 32-row tile holds 22 rows, so both of its halves are partly stored.
      await check(device, variant, [150, 20], [20, 36], { bias: true });
      await check(device, variant, [133, 9], [9, 4]);
      await check(device, variant, [2, 150, 9], [9, 12], {}, 'f16');
      await check(device, variant, [2, 3, 7], [2, 7, 8]);
      await check(device, variant, [3, 40, 140], [3, 40, 8], { transposeA: true });
      await check(device, variant, [2, 130, 12], [44, 12], { transposeB: true, bias: true }, 'f16');
    });

    it('adds a per-row bias (conv2d\'s explicit GEMM), batched and with a shared A', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      for (const [aShape, bShape] of [[[37, 20], [3, 20, 12]], [[130, 8], [2, 8, 36]], [[5, 9], [9, 7]]]) {
        const r = rng();
        const a = randomPair(device, aShape, r);
        const b = randomPair(device, bShape, r);
        const M = aShape[0];
        const bias = randomPair(device, [M], r);
        const got = ops.matmul(a.gpu, b.gpu, { bias: bias.gpu, biasPerRow: true, variant });
        const want = matmulCpu(a.host, b.host);
        const N = bShape[bShape.length - 1];
        want.data.forEach((v, i) => (want.data[i] = v + bias.host.data[Math.floor(i / N) % M]));
        await expectClose(got, want, F32_TOL, `${variant} row bias a ${aShape} b ${bShape}`);
        for (const t of [a.gpu, b.gpu, bias.gpu, got]) t.dispose();
      }
    });

    it('keeps float32 accuracy over a long K', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      // K = 1280 (UNet feed-forward width): rounding grows like sqrt(K)·2^-24, still far below 1e-5.
      await check(device, variant, [17, 1280], [1280, 33], { bias: true });
    });

    it('stores float16 and accumulates in float32', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      await check(device, variant, [77, 130], [130, 33], { bias: true }, 'f16');
      await check(device, variant, [2, 7, 17], [33, 17], { transposeB: true }, 'f16');
      await check(device, variant, [3, 320], [320, 5], {}, 'f16');
    });
  });
}

describe('rowBands', () => {
  it('splits off a last 32-row tile that would be at most half full, as smaller tiles', () => {
    expect(ops.rowBands(77, true)).toEqual([
      { first: 0, rows: 64, tile: 32 },
      { first: 64, rows: 13, tile: 16 },
    ]);
    expect(ops.rowBands(130, true)).toEqual([
      { first: 0, rows: 128, tile: 32 },
      { first: 128, rows: 2, tile: 8 },
    ]);
    // A last tile more than half full, a whole number of tiles, tiles of 16 rows, the naive kernel.
    expect(ops.rowBands(150, true)).toEqual([{ first: 0, rows: 150, tile: 32 }]);
    expect(ops.rowBands(1024, true)).toEqual([{ first: 0, rows: 1024, tile: 32 }]);
    expect(ops.rowBands(40, true)).toEqual([{ first: 0, rows: 40, tile: 16 }]);
    expect(ops.rowBands(77, false)).toEqual([{ first: 0, rows: 77, tile: 8 }]);
  });
});

describe('linear', () => {
  it('is x · weightᵀ + bias with PyTorch layouts', async () => {
    const device = await testDevice();
    const r = rng();
    for (const xShape of [[2, 5, 33], [7, 1], [130]]) {
      const inF = xShape[xShape.length - 1];
      const x = randomPair(device, xShape, r);
      const w = randomPair(device, [17, inF], r);
      const bias = randomPair(device, [17], r);
      const want = matmulCpu({ shape: xShape.length === 1 ? [1, inF] : xShape, data: x.host.data }, w.host, { transposeB: true, bias: bias.host });
      if (xShape.length === 1) want.shape = [17];
      await expectClose(ops.linear(x.gpu, w.gpu, bias.gpu), want, F32_TOL, `linear ${xShape}`);
      const noBias = matmulCpu({ shape: xShape.length === 1 ? [1, inF] : xShape, data: x.host.data }, w.host, { transposeB: true });
      if (xShape.length === 1) noBias.shape = [17];
      await expectClose(ops.linear(x.gpu, w.gpu), noBias, F32_TOL, `linear ${xShape} without bias`);
    }
  });
});

describe('matmul and linear reject bad shapes, naming the op and the shapes', () => {
  const z = (device: Device, shape: number[], dtype: 'f32' | 'f16' = 'f32'): Tensor => ops.zeros(device, shape, dtype);
  it('matmul', async () => {
    const d = await testDevice();
    expect(() => ops.matmul(z(d, [2, 3, 4]), z(d, [5, 6]))).toThrow('matmul: inner dimensions differ: a [2, 3, 4] vs b [5, 6]');
    expect(() => ops.matmul(z(d, [3, 4]), z(d, [3, 4]), { transposeB: false })).toThrow('matmul: inner dimensions differ: a [3, 4] vs b [3, 4]');
    expect(() => ops.matmul(z(d, [4, 3]), z(d, [5, 3]), { transposeA: true, transposeB: true })).toThrow(
      'matmul: inner dimensions differ: a [4, 3] vs b [5, 3] (transposeA, transposeB)',
    );
    expect(() => ops.matmul(z(d, [2, 3, 4]), z(d, [3, 4, 5]))).toThrow('matmul: batch dimensions of a [2, 3, 4] and b [3, 4, 5] cannot be broadcast together');
    expect(() => ops.matmul(z(d, [4]), z(d, [4, 5]))).toThrow('matmul: operands need at least 2 dimensions, got a [4] and b [4, 5]');
    expect(() => ops.matmul(z(d, [3, 4]), z(d, [4, 5]), { bias: z(d, [4]) })).toThrow('matmul: bias [4] does not match the 5 output columns of a [3, 4] x b [4, 5]');
    expect(() => ops.matmul(z(d, [3, 4]), z(d, [4, 5], 'f16'))).toThrow('matmul: dtypes differ (f32 vs f16)');
    expect(() => ops.matmul(z(d, [3, 4]), z(d, [4, 5]), { variant: 'fast' })).toThrow("matmul: unknown variant 'fast'");
  });
  it('linear', async () => {
    const d = await testDevice();
    expect(() => ops.linear(z(d, [2, 5]), z(d, [4, 3]))).toThrow('linear: x [2, 5] has 5 features but weight [4, 3] expects 3');
    expect(() => ops.linear(z(d, [2, 3]), z(d, [4, 3]), z(d, [3]))).toThrow('linear: bias [3] does not match weight [4, 3] (4 outputs)');
    expect(() => ops.linear(z(d, [2, 3]), z(d, [4, 3, 1]))).toThrow('linear: weight must have rank 2, got [4, 3, 1]');
  });
});
