import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { REDUCE_VARIANTS, reduce, type ReduceOp } from '../src/ops/reduce.ts';
import { reduceCpu } from '../src/reference/reduce.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

const SHAPES = [[7], [3, 5], [2, 3, 17], [2, 1, 4, 9], [2, 3, 4, 5, 6], [4, 1000], [1, 2, 1], [3, 5000]];
const OPS: ReduceOp[] = ['sum', 'mean', 'max'];

describe('sum, mean and max over one axis match the float64 reference', () => {
  for (const variant of REDUCE_VARIANTS) {
    for (const dtype of ['f32', 'f16'] as const) {
      it(`${variant} ${dtype}: every axis of every shape, negative axes, keepDims`, async () => {
        const device = await testDevice();
        const r = rng();
        for (const shape of SHAPES) {
          const x = randomPair(device, shape, r, { dtype, map: (v) => v + 0.25 });
          for (let axis = -shape.length; axis < shape.length; axis++) {
            const a = axis < 0 ? axis + shape.length : axis;
            const keepDims = axis % 2 === 0;
            for (const op of OPS) {
              const want = reduceCpu(op, x.host, a, keepDims);
              // f32: summing in f32 loses ~√n ulp; f16 adds one rounding of the result (2^-11).
              const tol = op === 'max' ? 0 : dtype === 'f32' ? 1e-5 : 2 ** -11 + 1e-5;
              await expectClose(reduce(op, x.gpu, axis, { keepDims, variant }), want, tol, `${op} ${shape} axis ${axis}`);
            }
          }
          x.gpu.dispose();
        }
      });
    }
  }

  it('sum, mean and max helpers; the sum over an empty axis is zero', async () => {
    const device = await testDevice();
    const x = randomPair(device, [3, 4], rng());
    await expectClose(ops.sum(x.gpu, 1), reduceCpu('sum', x.host, 1), 1e-6);
    await expectClose(ops.mean(x.gpu, 0, true), reduceCpu('mean', x.host, 0, true), 1e-6);
    await expectClose(ops.max(x.gpu, -1), reduceCpu('max', x.host, 1), 0);
    const empty = ops.zeros(device, [3, 0, 2]);
    await expectClose(ops.sum(empty, 1), { shape: [3, 2], data: new Float64Array(6) }, 0);
    expect(ops.sum(empty, 0).shape).toEqual([0, 2]);
  });

  it('rejects bad axes and empty max/mean, naming the op and the shape', async () => {
    const device = await testDevice();
    const x = ops.zeros(device, [2, 3]);
    expect(() => ops.sum(x, 2)).toThrow('sum: axis 2 out of range for rank 2');
    expect(() => ops.mean(x, -3)).toThrow('mean: axis -3 out of range for rank 2');
    expect(() => ops.max(ops.zeros(device, [2, 0]), 1)).toThrow('max: axis 1 of x [2, 0] is empty');
    expect(() => ops.sum(ops.zeros(device, [2], 'i32'), 0)).toThrow('sum: input 0 has dtype i32');
    expect(() => reduce('sum', x, 0, { variant: 'fast' })).toThrow("sum: unknown variant 'fast'");
  });
});
