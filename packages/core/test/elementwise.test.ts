import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { binaryCpu, binaryRef, unaryCpu, unaryRef } from '../src/reference/elementwise.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

// Sizes that are a multiple of 4 take the vec4 path (4 elements per index), the others the
// scalar one: 1, 7, 15, 102, 2 and 4800, 792, 4 elements (4800 and 792 also end in a partial
// workgroup).
const SHAPES = [[1], [7], [3, 5], [2, 3, 17], [2, 1, 1, 1], [1, 320, 3, 5], [2, 4, 9, 11], [4]];

// Inputs kept in each function's domain.
const DOMAIN: Partial<Record<keyof typeof unaryRef, (v: number) => number>> = {
  sqrt: Math.abs,
  rsqrt: (v) => Math.abs(v) + 0.1,
  rdivScalar: (v) => (Math.abs(v) + 0.1) * Math.sign(v || 1),
};

/**
 * Per storage dtype: input scale (float16 keeps exp's outputs finite) and tolerance (computed in
 * f32, then one rounding to float16: relative error ≤ 2^-11).
 */
const STORAGE = {
  f32: { scale: 4, unaryTol: 1e-5, binaryTol: 1e-6 },
  f16: { scale: 2, unaryTol: 2 ** -11 + 1e-5, binaryTol: 2 ** -11 + 1e-6 },
} as const;
const DTYPES = Object.keys(STORAGE) as (keyof typeof STORAGE)[];

describe('unary ops match the CPU reference', () => {
  for (const op of Object.keys(unaryRef) as (keyof typeof unaryRef)[]) {
    for (const dtype of DTYPES) {
      it(`${op} ${dtype}`, async () => {
        const device = await testDevice();
        const r = rng();
        const { scale, unaryTol } = STORAGE[dtype];
        for (const shape of SHAPES) {
          const { host, gpu } = randomPair(device, shape, r, { scale, dtype, map: DOMAIN[op] });
          const s = 1.75;
          const got = ops.unary(op, gpu, s);
          expect(got.dtype).toBe(dtype);
          await expectClose(got, unaryCpu(op, host, s), unaryTol, `${op} ${dtype} ${shape}`);
          got.dispose();
          gpu.dispose();
        }
      });
    }
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

  it('tanh keeps its relative precision near 0, on both sides of the series cut at 1/8', async () => {
    const device = await testDevice();
    const xs = [1e-6, -1e-4, 0.003, -0.006, 0.05, 0.1249, 0.1251, -0.3, 2];
    const got = await ops.tanh(ops.tensor(device, xs, [xs.length])).read();
    // Each element against its own value: 1 - exp(-2|x|) alone gave 2e-5 at |x| = 0.006.
    xs.forEach((x, i) => {
      const want = Math.tanh(Math.fround(x));
      expect(Math.abs(got[i] - want) / Math.abs(want), `tanh(${x})`).toBeLessThanOrEqual(1e-6);
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
  // Half widths 5, 321, 1, 3: scalar path; 8, 320: vec4 path (the half width is a multiple of 4).
  const CASES: [number[], 'gelu' | 'silu'][] = [
    [[2, 7, 10], 'gelu'],
    [[3, 2 * 321], 'gelu'],
    [[1, 5, 2], 'silu'],
    [[4, 6], 'gelu'],
    [[2, 3, 16], 'gelu'],
    [[3, 2 * 320], 'silu'],
  ];
  for (const dtype of DTYPES) {
    it(`x[..., :n] · f(x[..., n:]) over the last axis, for odd widths and batches, ${dtype}`, async () => {
      const device = await testDevice();
      const r = rng();
      for (const [shape, op] of CASES) {
        const x = randomPair(device, shape, r, { scale: 2, dtype });
        const n = shape[shape.length - 1] / 2;
        const rows = x.host.data.length / (2 * n);
        const want = new Float64Array(rows * n);
        for (let i = 0; i < rows; i++) for (let j = 0; j < n; j++) want[i * n + j] = x.host.data[i * 2 * n + j] * unaryRef[op](x.host.data[i * 2 * n + n + j]);
        const got = op === 'gelu' ? ops.geglu(x.gpu) : ops.gated(op, x.gpu);
        expect(got.shape).toEqual([...shape.slice(0, -1), n]);
        const tol = dtype === 'f16' ? 2 ** -11 + 1e-6 : 1e-6;
        await expectClose(got, { shape: [...shape.slice(0, -1), n], data: want }, tol, `gated ${op} ${dtype} ${shape}`);
      }
    });
  }

  it('rejects an odd last axis', async () => {
    const device = await testDevice();
    expect(() => ops.geglu(ops.zeros(device, [2, 3]))).toThrow('gated gelu: the last axis of x [2, 3] must have an even length (value and gate halves)');
  });
});

describe('binary ops broadcast like NumPy and match the CPU reference', () => {
  // Same shapes with a multiple of 4 elements take the vec4 path; other sizes and any
  // broadcasting take the scalar path.
  const PAIRS: [number[], number[]][] = [
    [[5], [5]],
    [[2, 3, 17], [2, 3, 17]],
    [[8], [8]],
    [[2, 4, 9, 11], [2, 4, 9, 11]],
    [[2, 3, 17], [17]],
    [[2, 3, 17], [3, 1]],
    [[2, 1, 4], [1, 5, 1]],
    [[1], [3, 7]],
    [[2, 320, 3, 5], [1, 320, 1, 1]],
    [[2, 1, 2, 1, 3, 1], [4, 1, 2, 1, 2]],
  ];
  for (const op of Object.keys(binaryRef) as (keyof typeof binaryRef)[]) {
    for (const dtype of DTYPES) {
      it(`${op} ${dtype}`, async () => {
        const device = await testDevice();
        const r = rng();
        for (const [sa, sb] of PAIRS) {
          const a = randomPair(device, sa, r, { dtype });
          const b = randomPair(device, sb, r, op === 'div' ? { dtype, map: (v) => Math.sign(v || 1) * (Math.abs(v) + 0.5) } : { dtype });
          const got = ops.binary(op, a.gpu, b.gpu);
          expect(got.dtype).toBe(dtype);
          await expectClose(got, binaryCpu(op, a.host, b.host), STORAGE[dtype].binaryTol, `${op} ${dtype} ${sa} ${sb}`);
        }
      });
    }
  }

  // The broadcast path unravels indices with f32 arithmetic up to 2^23 output elements and with
  // integer division above: a = its own index, so a wrong coordinate shows as a wrong value.
  for (const [sa, sb, path] of [
    [[3, 1000, 41], [41], 'f32 arithmetic, whose i · (1/41) is just below the quotient for some i'],
    [[2, 4096, 1024], [4096, 1], 'f32 arithmetic, last index 2^23 - 1'],
    [[7, 11, 108949], [7, 1, 1], 'integer division, 2^23 + 465 elements'],
  ] as [number[], number[], string][]) {
    it(`add ${ops.fmt(sa)} + ${ops.fmt(sb)} reads every element's own inputs (${path})`, async () => {
      const device = await testDevice();
      const host = {
        a: { shape: sa, data: Float32Array.from({ length: ops.numel(sa) }, (_, i) => i) },
        b: { shape: sb, data: Float32Array.from({ length: ops.numel(sb) }, (_, j) => -(j + 1)) },
      };
      const got = await ops.add(ops.tensor(device, host.a.data, host.a.shape), ops.tensor(device, host.b.data, host.b.shape)).read();
      const want = binaryCpu('add', host.a, host.b).data;
      let bad = -1;
      for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
      expect(bad, bad < 0 ? '' : `element ${bad}: got ${got[bad]}, want ${want[bad]}`).toBe(-1);
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
    // 999 elements (scalar path) and 1332 (vec4 path)
    for (const shape of [[3, 333], [4, 333]]) {
      const { host, gpu } = randomPair(device, shape, r, { scale: 100 });
      const half = ops.cast(gpu, 'f16');
      expect(half.dtype).toBe('f16');
      const back = ops.cast(half, 'f32');
      await expectClose(back, { shape: host.shape, data: ops.roundToHalf(host.data) }, 0, `cast ${shape}`);
    }
  });
});
