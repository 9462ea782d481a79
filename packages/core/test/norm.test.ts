import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { NORM_VARIANTS, groupNorm, layerNorm } from '../src/ops/norm.ts';
import { groupNormCpu, layerNormCpu } from '../src/reference/norm.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

// f16 storage: inputs are rounded to f16 on both sides; the f32 result is rounded once to f16,
// a relative error ≤ 2^-11 of each element, plus the f32 arithmetic's ~1e-6.
const F16_TOL = 2 ** -11 + 1e-5;

// [shape, groups]: odd sizes, batch > 1, 1x1 spatial, one channel, groups = 1 and groups = C,
// rank 2 and 3, Stable Diffusion's 32 groups, many small groups, spatial sizes with and without a
// factor 4 (the kernel takes elements in quads), one big group (VAE-like: 262144 elements).
const GROUP_CASES: [number[], number][] = [
  [[1, 4, 3, 3], 2],
  [[2, 6, 5, 7], 3],
  [[2, 8, 1, 1], 4],
  [[1, 1, 3, 5], 1],
  [[2, 12, 17], 12],
  [[3, 32, 7, 9], 1],
  [[3, 10], 5],
  [[2, 64, 9, 11], 32],
  [[1, 320, 17, 33], 32],
  [[2, 16, 4, 6], 8],
  [[16, 64, 3, 3], 32],
  [[1, 64, 128, 128], 4],
];

describe('groupNorm matches the float64 reference', () => {
  for (const variant of NORM_VARIANTS) {
    for (const dtype of ['f32', 'f16'] as const) {
      it(`${variant} ${dtype}: every shape, with and without affine and SiLU`, async () => {
        const device = await testDevice();
        const r = rng();
        for (const [shape, groups] of GROUP_CASES) {
          const c = shape[1];
          const x = randomPair(device, shape, r, { dtype, scale: 3, map: (v) => v + 0.5 });
          const w = randomPair(device, [c], r, { dtype });
          const b = randomPair(device, [c], r, { dtype });
          const tol = dtype === 'f32' ? 1e-5 : F16_TOL;
          const label = `${variant} ${dtype} ${shape} groups ${groups}`;
          await expectClose(
            groupNorm(x.gpu, { groups, weight: w.gpu, bias: b.gpu, silu: true, eps: 1e-6, variant }),
            groupNormCpu(x.host, groups, 1e-6, w.host, b.host, true),
            tol,
            `${label} affine silu`,
          );
          if (x.gpu.size > 1e5) continue; // the big group once is enough
          await expectClose(groupNorm(x.gpu, { groups, variant }), groupNormCpu(x.host, groups, 1e-5), tol, label);
          await expectClose(groupNorm(x.gpu, { groups, weight: w.gpu, variant }), groupNormCpu(x.host, groups, 1e-5, w.host), tol, `${label} weight`);
          await expectClose(
            groupNorm(x.gpu, { groups, bias: b.gpu, variant }),
            groupNormCpu(x.host, groups, 1e-5, undefined, b.host),
            tol,
            `${label} bias`,
          );
        }
      });
    }
  }

  it('keeps the variance accurate when mean² ≫ variance (mean 100, std 0.01)', async () => {
    const device = await testDevice();
    const r = rng();
    for (const [shape, groups] of [[[2, 64, 16, 16], 32], [[1, 8, 64, 64], 1]] as [number[], number][]) {
      const x = randomPair(device, shape, r, { scale: 0.01, map: (v) => v + 100 });
      // One-pass E[x²] − E[x]² in f32 would lose all digits here (ulp(1e4) ≈ 1e-3 ≫ var = 1e-4).
      await expectClose(groupNorm(x.gpu, { groups, eps: 0 }), groupNormCpu(x.host, groups, 0), 1e-5, `${shape}`);
    }
  });

  it('stays exact when the sampled shift is poor (outliers at every sampled position)', async () => {
    const device = await testDevice();
    const r = rng();
    // The kernel shifts by the mean of 4·THREADS elements evenly spread over the segment; put
    // outliers exactly there so that the shift is far from the mean and the exact repeat runs.
    for (const [variant, samples] of [['workgroup', 128], ['thread', 4]] as const) {
      const shape = [2, 8, 125, 128];
      const n = 8 * 125 * 128;
      const x = randomPair(device, shape, r);
      const data = Float32Array.from(x.host.data, (v, i) => ((i % n) % (n / samples) === 0 ? 1000 : v));
      const gpu = ops.tensor(device, data, shape);
      await expectClose(groupNorm(gpu, { groups: 1, variant }), groupNormCpu({ shape, data }, 1, 1e-5), 1e-5, variant);
    }
  });

  it('rejects bad shapes, naming the op and the shapes', async () => {
    const device = await testDevice();
    const x = ops.zeros(device, [2, 6, 3]);
    expect(() => groupNorm(x, { groups: 4 })).toThrow('groupNorm: groups 4 must be a positive integer dividing the 6 channels of x [2, 6, 3]');
    expect(() => groupNorm(x, { groups: 0 })).toThrow('groupNorm: groups 0');
    expect(() => groupNorm(ops.zeros(device, [6]), { groups: 2 })).toThrow('groupNorm: x must be [batch, C, ...spatial], got [6]');
    expect(() => groupNorm(x, { groups: 3, weight: ops.zeros(device, [3]) })).toThrow(
      'groupNorm: weight must have shape [6] for x [2, 6, 3], got [3]',
    );
    expect(() => groupNorm(x, { groups: 3, bias: ops.zeros(device, [6], 'f16') })).toThrow('groupNorm: dtypes differ (f32 vs f16)');
    expect(() => groupNorm(ops.zeros(device, [2, 6], 'i32'), { groups: 3 })).toThrow('groupNorm: input 0 has dtype i32');
    expect(() => groupNorm(x, { groups: 3, variant: 'fast' })).toThrow("groupNorm: unknown variant 'fast' (known: auto, workgroup, thread)");
  });
});

describe('layerNorm matches the float64 reference', () => {
  const SHAPES = [[1, 1], [7, 3], [2, 3, 17], [5, 1], [2, 77, 768], [3, 1280], [1024, 320], [33], [300, 6]];
  for (const variant of NORM_VARIANTS) {
    for (const dtype of ['f32', 'f16'] as const) {
      it(`${variant} ${dtype}: every shape, with and without affine`, async () => {
        const device = await testDevice();
        const r = rng();
        for (const shape of SHAPES) {
          const d = shape[shape.length - 1];
          const x = randomPair(device, shape, r, { dtype, scale: 2, map: (v) => v - 1 });
          const w = randomPair(device, [d], r, { dtype });
          const b = randomPair(device, [d], r, { dtype });
          const tol = dtype === 'f32' ? 1e-5 : F16_TOL;
          await expectClose(layerNorm(x.gpu, { variant }), layerNormCpu(x.host, 1e-5), tol, `${variant} ${dtype} ${shape}`);
          await expectClose(
            layerNorm(x.gpu, { weight: w.gpu, bias: b.gpu, eps: 1e-6, variant }),
            layerNormCpu(x.host, 1e-6, w.host, b.host),
            tol,
            `${variant} ${dtype} ${shape} affine`,
          );
        }
      });
    }
  }

  it('keeps the variance accurate when mean² ≫ variance', async () => {
    const device = await testDevice();
    const x = randomPair(device, [9, 768], rng(), { scale: 0.01, map: (v) => v + 100 });
    await expectClose(layerNorm(x.gpu, { eps: 0 }), layerNormCpu(x.host, 0), 1e-5);
  });

  it('rejects bad affine shapes', async () => {
    const device = await testDevice();
    const x = ops.zeros(device, [4, 5]);
    expect(() => layerNorm(x, { weight: ops.zeros(device, [4]) })).toThrow('layerNorm: weight must have shape [5] for x [4, 5], got [4]');
    expect(() => layerNorm(x, { bias: ops.zeros(device, [1, 5]) })).toThrow('layerNorm: bias must have shape [5] for x [4, 5], got [1, 5]');
  });
});
