// Autotuning: Device.autotune times conv2d's kernel candidates per call shape and the op then
// follows the measured choice, with the same results as that kernel requested by name.

import { describe, expect, it } from 'vitest';
import { conv2d, tensor, type Device, type Tensor } from '../src/index.ts';
import { CLEAR_LOSS, LONG_CALL_MS, timeCandidates } from '../src/tuning.ts';
import { randn, rng, SEED, testDevice } from './helpers.ts';

const r = rng(SEED);
const x1 = randn(2 * 64 * 8 * 8, r);
const w1 = randn(128 * 64 * 9, r, 0.05);
const x2 = randn(1 * 16 * 12 * 10, r);
const w2 = randn(24 * 16 * 9, r, 0.1);
const bias2 = randn(24, r);

function inputs(device: Device) {
  return {
    x1: tensor(device, x1, [2, 64, 8, 8]),
    w1: tensor(device, w1, [128, 64, 3, 3]),
    x2: tensor(device, x2, [1, 16, 12, 10]),
    w2: tensor(device, w2, [24, 16, 3, 3]),
    bias2: tensor(device, bias2, [24]),
  };
}

/** Two 3x3 convolutions of different shapes (both can run as Winograd or implicit GEMM, the first as the explicit GEMM too) and a strided one (no choice). */
const CONVS = [
  (t: ReturnType<typeof inputs>, variant?: string) => conv2d(t.x1, t.w1, { padding: 1, variant }),
  (t: ReturnType<typeof inputs>, variant?: string) => conv2d(t.x2, t.w2, { padding: 1, bias: t.bias2, activation: 'silu', variant }),
  (t: ReturnType<typeof inputs>, variant?: string) => conv2d(t.x1, t.w1, { padding: 1, stride: 2, variant: variant === 'winograd' ? 'implicit' : variant }),
];

function net(t: ReturnType<typeof inputs>, variant?: string): Tensor[] {
  return CONVS.map((conv) => conv(t, variant));
}

/** The kernels' dispatch count tells which one ran: the implicit GEMM is one dispatch, Winograd several. */
function dispatchesOf(device: Device, fn: () => void): number {
  device.resetCounters();
  device.scope(fn);
  return device.counters().dispatches;
}

describe('Device.autotune', () => {
  it('times every candidate of each call shape once, records the fastest, and conv2d follows it', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const t = inputs(device);
    const results = await device.autotune(() => void net(t));
    // The two 3x3 stride-1 shapes are offered; the strided one has no choice.
    expect(results.map((res) => res.key)).toEqual([
      'conv2d f32 x [2, 64, 8, 8] weight [128, 64, 3, 3] padding 1',
      'conv2d f32 x [1, 16, 12, 10] weight [24, 16, 3, 3] padding 1 bias silu',
    ]);
    // The explicit GEMM is a candidate only without a SiLU or residual to apply in extra passes.
    expect(results.map((res) => Object.keys(res.ms).sort())).toEqual([
      ['gemm', 'implicit', 'winograd'],
      ['implicit', 'winograd'],
    ]);
    for (const res of results) {
      for (const ms of Object.values(res.ms)) expect(ms).toBeGreaterThan(0);
      // The fastest of the fully timed candidates. A cut one's time is a single spinning call,
      // judged against the winner's spinning call: on a noisy machine it can read below the
      // winner's quiet sample (seen in CI: 2.04 against 2.93 ms).
      const cut = res.cutShort ?? [];
      expect(cut).not.toContain(res.chosen);
      const timed = Object.entries(res.ms).filter(([variant]) => !cut.includes(variant));
      expect(res.ms[res.chosen], JSON.stringify(res)).toBe(Math.min(...timed.map(([, ms]) => ms)));
      expect(device.tuning.choice(res.key)).toBe(res.chosen);
    }
    // Tuned keys are not timed again.
    expect(await device.autotune(() => void net(t))).toEqual([]);

    // auto runs the chosen kernel, with results identical to requesting it by name.
    for (const [i, res] of results.entries()) {
      const call = (variant?: string) => CONVS[i](t, variant);
      expect(dispatchesOf(device, () => void call())).toBe(dispatchesOf(device, () => void call(res.chosen)));
      const [auto, named] = await Promise.all([call().read(), call(res.chosen).read()]);
      expect(auto).toEqual(named);
    }
  });

  it('a recorded choice overrides the heuristic, and clearing restores it', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const t = inputs(device);
    device.tuning.clear();
    const one = (variant?: string) => () => void conv2d(t.x1, t.w1, { padding: 1, variant });
    const first = one();
    const [winograd, implicit] = [dispatchesOf(device, one('winograd')), dispatchesOf(device, one('implicit'))];
    expect(winograd).toBeGreaterThan(implicit);
    const key = 'conv2d f32 x [2, 64, 8, 8] weight [128, 64, 3, 3] padding 1';
    const heuristic = dispatchesOf(device, first);
    for (const chosen of ['winograd', 'implicit']) {
      device.tuning.record({ key, ms: {}, chosen });
      expect(dispatchesOf(device, first)).toBe(chosen === 'winograd' ? winograd : implicit);
    }
    device.tuning.clear();
    expect(dispatchesOf(device, first)).toBe(heuristic);
  });

  it('dispatches nothing while planning, and resumes dispatching when the function throws', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const t = inputs(device);
    device.resetCounters();
    await expect(
      device.autotune(() => {
        net(t);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(device.counters().dispatches).toBe(0);
    const out = device.scope(() => net(t)[1]);
    expect(device.counters().dispatches).toBeGreaterThan(0);
    expect((await out.read()).length).toBe(24 * 12 * 10);
  });
});

/**
 * A stand-in GPU for the timing logic: call n (from 1) of candidate v keeps it busy for `ms[v]`
 * milliseconds (or `ms[v](n)`) after the previous call ends; the wait resolves when it is idle.
 * Counts calls.
 */
function fakeGpu(ms: Record<string, number | ((n: number) => number)>) {
  let busyUntil = 0;
  const calls: Record<string, number> = {};
  return {
    calls,
    call: (v: string) => () => {
      const n = (calls[v] = (calls[v] ?? 0) + 1);
      const d = ms[v];
      busyUntil = Math.max(busyUntil, performance.now()) + (typeof d === 'number' ? d : d(n));
    },
    waitIdle: () => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, busyUntil - performance.now()))),
  };
}

describe('timeCandidates', () => {
  it('stops timing a candidate after its spinning call when it is clearly slower than the fastest so far', async () => {
    const gpu = fakeGpu({ fast: 8, slow: 8 * 3 * CLEAR_LOSS });
    const res = await timeCandidates(['fast', 'slow'], gpu.call, gpu.waitIdle);
    expect(res.chosen).toBe('fast');
    expect(res.cutShort).toEqual(['slow']);
    // The untimed call and two spinning ones (short calls get a second); the winner also took at
    // least one quiet sample of 3.
    expect(gpu.calls.slow).toBe(3);
    expect(gpu.calls.fast).toBeGreaterThanOrEqual(5);
    expect(res.ms.slow).toBeGreaterThan(res.ms.fast);
  });

  it('times candidates within CLEAR_LOSS of the fastest in full', async () => {
    const gpu = fakeGpu({ a: 10, b: 11 });
    const res = await timeCandidates(['a', 'b'], gpu.call, gpu.waitIdle);
    expect(res.cutShort).toBeUndefined();
    expect(gpu.calls.b).toBeGreaterThanOrEqual(5);
    expect(res.chosen).toBe('a');
  });

  it('times a faster candidate that comes after a slower one in full, and chooses it', async () => {
    const gpu = fakeGpu({ slow: 12, fast: 6 });
    const res = await timeCandidates(['slow', 'fast'], gpu.call, gpu.waitIdle);
    expect(res.cutShort).toBeUndefined();
    expect(res.chosen).toBe('fast');
    expect(res.ms.fast).toBeLessThan(res.ms.slow);
  });

  it('gives a short call that was slow once a second spinning call before cutting it', async () => {
    // Call 2 (the first spinning one) is slow; every other call is as fast as the rival's.
    const gpu = fakeGpu({ rival: 10, noisy: (n) => (n === 2 ? 10 * 3 * CLEAR_LOSS : 10) });
    const res = await timeCandidates(['rival', 'noisy'], gpu.call, gpu.waitIdle);
    expect(res.cutShort).toBeUndefined();
    expect(gpu.calls.noisy).toBeGreaterThanOrEqual(6);
  });

  it('cuts a long call after one spinning call', async () => {
    const gpu = fakeGpu({ fast: LONG_CALL_MS, slow: LONG_CALL_MS * 2 * CLEAR_LOSS });
    const res = await timeCandidates(['fast', 'slow'], gpu.call, gpu.waitIdle);
    expect(res).toMatchObject({ chosen: 'fast', cutShort: ['slow'] });
    expect(gpu.calls.slow).toBe(2);
  });

  it('samples calls of LONG_CALL_MS or more one at a time', async () => {
    const gpu = fakeGpu({ long: LONG_CALL_MS * 1.2 });
    const res = await timeCandidates(['long'], gpu.call, gpu.waitIdle);
    expect(res.chosen).toBe('long');
    // Untimed, spinning, one quiet call (one retake allowed if a timer fired late); samples of 3 would make at least 5.
    expect(gpu.calls.long).toBeLessThanOrEqual(4);
    expect(res.ms.long).toBeGreaterThanOrEqual(LONG_CALL_MS);
  });

  it('rejects an empty candidate list', async () => {
    const gpu = fakeGpu({});
    await expect(timeCandidates([], gpu.call, gpu.waitIdle)).rejects.toThrow('no candidates');
  });
});
