import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { ATTENTION_VARIANTS, attention, type AttentionOptions } from '../src/ops/attention.ts';
import { attentionCpu } from '../src/reference/attention.ts';
import type { HostTensor } from '../src/reference/host.ts';
import { expectClose, randomPair, relError, rng, SEED, testDevice } from './helpers.ts';
import { laneGroupDevice, subgroupDevice } from './subgroup-device.ts';

/** The device a variant is tested on: `subgroup` needs one with subgroups (skipped without). */
const deviceFor = (variant: string): Promise<ops.Device | undefined> => (variant === 'subgroup' ? subgroupDevice() : testDevice());

interface Case {
  batch: number;
  lq: number;
  lk: number;
  heads: number;
  d: number;
  causal?: boolean;
  scale?: number;
}

// Self- and cross-attention over lengths that are no multiple of any tile, head sizes of SD 1.5
// (40, 80, 160), CLIP (64), the VAE (512) and small ones (1, 3, 8, 16: the scalar path).
const CASES: Case[] = [
  { batch: 2, lq: 1, lk: 1, heads: 1, d: 1 },
  { batch: 2, lq: 5, lk: 5, heads: 2, d: 3 },
  { batch: 2, lq: 17, lk: 17, heads: 8, d: 8, causal: true },
  { batch: 2, lq: 77, lk: 77, heads: 2, d: 64, causal: true },
  { batch: 2, lq: 100, lk: 77, heads: 8, d: 40 },
  { batch: 2, lq: 257, lk: 257, heads: 1, d: 40 },
  { batch: 2, lq: 17, lk: 100, heads: 2, d: 80 },
  { batch: 2, lq: 5, lk: 257, heads: 1, d: 160 },
  { batch: 2, lq: 77, lk: 5, heads: 8, d: 16 },
  { batch: 2, lq: 33, lk: 17, heads: 2, d: 160, causal: true },
  { batch: 2, lq: 17, lk: 33, heads: 1, d: 3, causal: true },
  { batch: 2, lq: 100, lk: 100, heads: 2, d: 40, causal: true, scale: 0.3 },
  { batch: 2, lq: 1, lk: 257, heads: 8, d: 40, scale: 2 },
  { batch: 2, lq: 257, lk: 1, heads: 1, d: 64 },
  // Head sizes past blocked's private budget: fewer rows per invocation (4 at d320, 2 at d512).
  { batch: 2, lq: 19, lk: 40, heads: 2, d: 320, causal: true },
  { batch: 1, lq: 37, lk: 23, heads: 1, d: 512 },
];

function draw(device: ops.Device, c: Case, r: ReturnType<typeof rng>, dtype: 'f32' | 'f16' = 'f32') {
  const width = c.heads * c.d;
  const q = randomPair(device, [c.batch, c.lq, width], r, { dtype });
  const k = randomPair(device, [c.batch, c.lk, width], r, { dtype });
  const v = randomPair(device, [c.batch, c.lk, width], r, { dtype });
  const opts: AttentionOptions = { heads: c.heads, causal: c.causal, scale: c.scale };
  return { q, k, v, opts, want: attentionCpu(q.host, k.host, v.host, opts) };
}

const label = (c: Case): string => JSON.stringify(c);

/** q, k and v of a long case (batch 1), whose reference is computed for a few query rows only. */
function drawLong(device: ops.Device, c: Case, r: ReturnType<typeof rng>) {
  const width = c.heads * c.d;
  return { q: randomPair(device, [1, c.lq, width], r), k: randomPair(device, [1, c.lk, width], r), v: randomPair(device, [1, c.lk, width], r) };
}

/**
 * Expects query `rows` of `got` to match the CPU reference. Sums over thousands of keys in f32
 * round a little more than the small cases (~2e-6 measured).
 */
function expectRowsMatch(got: ArrayLike<number>, { q, k, v }: ReturnType<typeof drawLong>, opts: AttentionOptions, rows: number[]): void {
  const width = q.host.shape[2];
  const want = attentionCpu(q.host, k.host, v.host, { ...opts, rows });
  const pick = (data: ArrayLike<number>): number[] => rows.flatMap((i) => Array.from({ length: width }, (_, j) => data[i * width + j]));
  expect(relError(pick(got), pick(want.data)), `${JSON.stringify(opts)} (seed ${SEED})`).toBeLessThanOrEqual(1e-5);
}

describe('attention matches the CPU reference', () => {
  for (const variant of ATTENTION_VARIANTS) {
    it(`${variant}, float32`, async (ctx) => {
      const device = await deviceFor(variant);
      if (!device) return ctx.skip();
      const r = rng();
      for (const c of CASES) {
        const { q, k, v, opts, want } = draw(device, c, r);
        // f32 dot products over d ≤ 160 and sums over ≤ 257 keys: ~1e-6 measured
        await expectClose(attention(q.gpu, k.gpu, v.gpu, { ...opts, variant }), want, 1e-5, `${variant} ${label(c)}`);
        for (const t of [q, k, v]) t.gpu.dispose();
      }
    });

    it(`${variant}, float16 storage`, async (ctx) => {
      const device = await deviceFor(variant);
      if (!device) return ctx.skip();
      const r = rng();
      for (const c of [CASES[4], CASES[3], CASES[9], CASES[1]]) {
        const { q, k, v, opts, want } = draw(device, c, r, 'f16');
        const got = attention(q.gpu, k.gpu, v.gpu, { ...opts, variant });
        expect(got.dtype).toBe('f16');
        // inputs are f16 on both sides; the f32 result is rounded once to f16 (≤ 2^-11 relative).
        // `scores` also stores the probabilities in f16 for p·v: a second rounding.
        const roundings = variant === 'scores' ? 2 : 1;
        await expectClose(got, want, roundings * 2 ** -11 + 1e-5, `${variant} f16 ${label(c)}`);
      }
    });
  }

  it('subgroup with 4 tiles per workgroup and 1 row per invocation (the 32-wide-subgroup layout), float32', async (ctx) => {
    const device = await laneGroupDevice();
    if (!device) return ctx.skip();
    const r = rng();
    // SD's head sizes, lengths that leave tiles of several heads in one workgroup, and a causal
    // case (run with one tile per workgroup).
    for (const c of [CASES[4], CASES[5], CASES[6], CASES[7], CASES[12], CASES[3]]) {
      const { q, k, v, opts, want } = draw(device, c, r);
      await expectClose(attention(q.gpu, k.gpu, v.gpu, { ...opts, variant: 'subgroup' }), want, 1e-5, `subgroup x4 ${label(c)}`);
      for (const t of [q, k, v]) t.gpu.dispose();
    }
  });

  it('runs 4096 tokens (a 512 px latent) with O(n) memory', async () => {
    // the subgroup device when there is one: the default variant there is the fast one
    const device = (await subgroupDevice()) ?? (await testDevice());
    const r = rng();
    const t = drawLong(device, { batch: 1, lq: 4096, lk: 4096, heads: 1, d: 40 }, r);
    for (const causal of [false, true]) {
      const before = device.memory().liveBytes;
      const out = attention(t.q.gpu, t.k.gpu, t.v.gpu, { heads: 1, causal });
      // only the output is allocated, never the 4096×4096 scores (64 MiB in f32)
      expect(device.memory().liveBytes - before).toBeLessThan(2 * out.bytes);
      expectRowsMatch(await out.read(), t, { heads: 1, causal }, [0, 1, 777, 2048, 4095]);
      out.dispose();
    }
  });

  it('scores over more query rows than one 64 MiB chunk of scores holds', async () => {
    const device = await testDevice();
    const r = rng();
    // 2 heads × 5000 keys: 1677 query rows per chunk, so three chunks (the last of 1646 rows).
    const t = drawLong(device, { batch: 1, lq: 5000, lk: 5000, heads: 2, d: 8 }, r);
    for (const causal of [false, true]) {
      const before = device.memory().liveBytes;
      device.pool.resetPeak();
      const out = attention(t.q.gpu, t.k.gpu, t.v.gpu, { heads: 2, causal, variant: 'scores' });
      const got = await out.read();
      // at most one chunk's scores and probabilities at a time: the whole matrix would be 200 MB
      expect(device.memory().peakBytes - before).toBeLessThan(2 * 64 * 2 ** 20 + 8 * out.bytes);
      expectRowsMatch(got, t, { heads: 2, causal }, [0, 1676, 1677, 3353, 3354, 4999]);
      out.dispose();
    }
    for (const pair of [t.q, t.k, t.v]) pair.gpu.dispose();
  });

  it('a query that matches one key much better than the rest returns that key’s value', async () => {
    for (const variant of ATTENTION_VARIANTS) {
      const device = await deviceFor(variant);
      if (!device) continue;
      // q·k = 100 for key 1, 0 for the others: the softmax is one-hot up to e^-100.
      const q = ops.tensor(device, [10, 0, 0, 0], [1, 1, 4]);
      const k = ops.tensor(device, [0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0], [1, 3, 4]);
      const v = ops.tensor(device, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [1, 3, 4]);
      const want: HostTensor = { shape: [1, 1, 4], data: Float64Array.from([5, 6, 7, 8]) };
      await expectClose(attention(q, k, v, { heads: 1, scale: 1, variant }), want, 1e-6, variant);
    }
  });
});

describe('attention under Device.autotune', () => {
  it('times the fused kernel against scores, and the choice is what runs', async () => {
    const device = await testDevice();
    const z = (shape: number[]) => ops.zeros(device, shape);
    // 512 KiB of scores: within the sizes that are tuned (a 64 KiB call is not).
    const [q, k, v] = [z([1, 512, 16]), z([1, 256, 16]), z([1, 256, 16])];
    const small = z([1, 128, 16]);
    try {
      const results = await device.autotune(() => {
        attention(q, k, v, { heads: 1 });
        attention(small, small, small, { heads: 1 });
      });
      expect(results.filter((r) => r.key.startsWith('attention')).map((r) => r.key)).toEqual(['attention f32 q [1, 512, 16] k [1, 256, 16] heads 1']);
      const tuned = results.find((r) => r.key === 'attention f32 q [1, 512, 16] k [1, 256, 16] heads 1');
      expect(tuned, JSON.stringify(results.map((r) => r.key))).toBeDefined();
      const timed = Object.keys(tuned!.ms);
      expect(timed).toHaveLength(2);
      expect(timed).toContain('scores');
      // `scores` is more dispatches (two matmuls and a softmax) than the fused kernel's one.
      const dispatches: Record<string, number> = {};
      for (const chosen of timed) {
        device.tuning.record({ ...tuned!, chosen });
        device.resetCounters();
        await attention(q, k, v, { heads: 1 }).read();
        dispatches[chosen] = device.counters().dispatches;
      }
      const fused = timed.find((name) => name !== 'scores')!;
      expect(dispatches.scores, JSON.stringify(dispatches)).toBeGreaterThan(dispatches[fused]);
    } finally {
      device.tuning.clear();
    }
  });
});

describe('attention rejects bad inputs, naming the op and the shapes', () => {
  it('shape and dtype errors', async () => {
    const device = await testDevice();
    const z = (shape: number[], dtype: ops.DType = 'f32') => ops.zeros(device, shape, dtype);
    const q = z([2, 5, 16]);
    const k = z([2, 7, 16]);
    expect(() => attention(z([5, 16]), k, k, { heads: 2 })).toThrow('attention: q must have rank 3, got [5, 16]');
    expect(() => attention(q, z([1, 7, 16]), k, { heads: 2 })).toThrow(
      'attention: batch sizes differ: q [2, 5, 16], k [1, 7, 16], v [2, 7, 16]',
    );
    expect(() => attention(q, z([2, 7, 8]), z([2, 7, 8]), { heads: 2 })).toThrow(
      'attention: feature sizes differ: q [2, 5, 16], k [2, 7, 8], v [2, 7, 8]',
    );
    expect(() => attention(q, k, z([2, 6, 16]), { heads: 2 })).toThrow(
      'attention: k and v have different lengths: q [2, 5, 16], k [2, 7, 16], v [2, 6, 16]',
    );
    expect(() => attention(q, k, k, { heads: 3 })).toThrow(
      'attention: feature size 16 of q [2, 5, 16], k [2, 7, 16], v [2, 7, 16] does not split into 3 heads',
    );
    expect(() => attention(q, z([2, 0, 16]), z([2, 0, 16]), { heads: 2 })).toThrow('attention: no keys to attend to');
    expect(() => attention(q, z([2, 7, 16], 'f16'), z([2, 7, 16], 'f16'), { heads: 2 })).toThrow(
      'attention: dtypes differ (f32 vs f16 vs f16)',
    );
    expect(() => attention(q, k, k, { heads: 2, variant: 'fast' })).toThrow(
      "attention: unknown variant 'fast' (known: subgroup, blocked, simple, scores)",
    );
    expect(attention(z([2, 0, 16]), k, k, { heads: 2 }).shape).toEqual([2, 0, 16]);
  });
});
