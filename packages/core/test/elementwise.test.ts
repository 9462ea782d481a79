import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { binaryCpu, binaryRef, unaryCpu, unaryRef } from '../src/reference/elementwise.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

const SHAPES = [[1], [7], [3, 5], [2, 3, 17], [2, 1, 1, 1], [1, 320, 3, 5], [2, 4, 9, 11]];

// Inputs kept in each function's domain.
const DOMAIN: Partial<Record<keyof typeof unaryRef, (v: number) => number>> = {
  sqrt: Math.abs,
  rsqrt: (v) => Math.abs(v) + 0.1,
  rdivScalar: (v) => (Math.abs(v) + 0.1) * Math.sign(v || 1),
};

describe('unary ops match the CPU reference', () => {
  for (const op of Object.keys(unaryRef) as (keyof typeof unaryRef)[]) {
    it(op, async () => {
      const device = await testDevice();
      const r = rng();
      for (const shape of SHAPES) {
        const { host, gpu } = randomPair(device, shape, r, { scale: 4, map: DOMAIN[op] });
        const s = 1.75;
        const got = ops.unary(op, gpu, s);
        await expectClose(got, unaryCpu(op, host, s), 1e-5, `${op} ${shape}`);
        got.dispose();
        gpu.dispose();
      }
    });
  }

  it('gelu keeps relative precision in the negative tail', async () => {
    const device = await testDevice();
    const xs = [-9, -7, -5.5, -3, -1, -1e-3, 0, 1e-3, 0.5, 2, 6];
    const got = await ops.gelu(ops.tensor(device, xs, [xs.length])).read();
    xs.forEach((x, i) => {
      const want = unaryRef.gelu(x);
      if (Math.abs(got[i] - want) > 1e-5 * Math.abs(want) + 1e-30) throw new Error(`gelu(${x}) = ${got[i]}, want ${want}`);
    });
  });

  it('tanh, sigmoid and silu saturate without overflow', async () => {
    const device = await testDevice();
    const x = ops.tensor(device, [-1e4, -100, 100, 1e4], [4]);
    await expectClose(ops.tanh(x), { shape: [4], data: Float64Array.from([-1, -1, 1, 1]) }, 0);
    await expectClose(ops.sigmoid(x), { shape: [4], data: Float64Array.from([0, 3.7200759760208356e-44, 1, 1]) }, 1e-7);
    await expectClose(ops.silu(x), { shape: [4], data: Float64Array.from([-0, -3.7200759760208356e-42, 100, 1e4]) }, 1e-7);
  });
});

describe('gated activations (GEGLU)', () => {
  it('x[..., :n] · f(x[..., n:]) over the last axis, for odd widths and batches', async () => {
    const device = await testDevice();
    const r = rng();
    for (const [shape, op] of [
      [[2, 7, 10], 'gelu'],
      [[3, 2 * 321], 'gelu'],
      [[1, 5, 2], 'silu'],
    ] as [number[], 'gelu' | 'silu'][]) {
      const x = randomPair(device, shape, r, { scale: 2 });
      const n = shape[shape.length - 1] / 2;
      const rows = x.host.data.length / (2 * n);
      const want = new Float64Array(rows * n);
      for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) want[i * n + j] = x.host.data[i * 2 * n + j] * unaryRef[op](x.host.data[i * 2 * n + n + j]);
      const got = op === 'gelu' ? ops.geglu(x.gpu) : ops.gated(op, x.gpu);
      expect(got.shape).toEqual([...shape.slice(0, -1), n]);
      await expectClose(got, { shape: [...shape.slice(0, -1), n], data: want }, 1e-6, `gated ${op} ${shape}`);
    }
    expect(() => ops.geglu(ops.zeros(device, [2, 3]))).toThrow('gated gelu: the last axis of x [2, 3] must have an even length (value and gate halves)');
  });
});

describe('binary ops broadcast like NumPy and match the CPU reference', () => {
  const PAIRS: [number[], number[]][] = [
    [[5], [5]],
    [[2, 3, 17], [2, 3, 17]],
    [[2, 3, 17], [17]],
    [[2, 3, 17], [3, 1]],
    [[2, 1, 4], [1, 5, 1]],
    [[1], [3, 7]],
    [[2, 320, 3, 5], [1, 320, 1, 1]],
    [[2, 1, 2, 1, 3, 1], [4, 1, 2, 1, 2]],
  ];
  for (const op of Object.keys(binaryRef) as (keyof typeof binaryRef)[]) {
    it(op, async () => {
      const device = await testDevice();
      const r = rng();
      for (const [sa, sb] of PAIRS) {
        const a = randomPair(device, sa, r);
        const b = randomPair(device, sb, r, op === 'div' ? { map: (v) => Math.sign(v || 1) * (Math.abs(v) + 0.5) } : {});
        await expectClose(ops.binary(op, a.gpu, b.gpu), binaryCpu(op, a.host, b.host), 1e-6, `${op} ${sa} ${sb}`);
      }
    });
  }

  it('rejects shapes that do not broadcast, naming the op and both shapes', async () => {
    const device = await testDevice();
    const a = ops.zeros(device, [2, 3]);
    const b = ops.zeros(device, [4]);
    expect(() => ops.add(a, b)).toThrow('add: shapes [2, 3] and [4] cannot be broadcast together');
  });
});

describe('float16 storage', () => {
  it('cast f32 -> f16 -> f32 rounds to nearest half', async () => {
    const device = await testDevice();
    const r = rng();
    const { host, gpu } = randomPair(device, [3, 333], r, { scale: 100 });
    const half = ops.cast(gpu, 'f16');
    const back = ops.cast(half, 'f32');
    await expectClose(back, { shape: host.shape, data: ops.roundToHalf(host.data) }, 0);
  });

  it('unary and binary ops on f16 storage compute in f32 and round once', async () => {
    const device = await testDevice();
    const r = rng();
    const a = randomPair(device, [4, 77], r, { dtype: 'f16' });
    const b = randomPair(device, [77], r, { dtype: 'f16' });
    const sum = ops.add(a.gpu, b.gpu);
    // one rounding to float16 of the exact result: relative error ≤ 2^-11
    await expectClose(sum, binaryCpu('add', a.host, b.host), 2 ** -11);
    await expectClose(ops.silu(a.gpu), unaryCpu('silu', a.host), 2 ** -11);
  });
});
