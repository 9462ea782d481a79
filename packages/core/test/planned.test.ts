// The planned sampling step: pipelines compiled ahead (asynchronously) and bind groups reused
// across identical computations, and neither going stale when buffers are destroyed.

import { afterAll, describe, expect, it } from 'vitest';
import { add, attention, concat, conv2d, createDevice, groupNorm, matmul, silu, tensor, type Device, type Tensor } from '../src/index.ts';
import { randn, rng, SEED, testDevice } from './helpers.ts';

/** Inputs of `block`, as host arrays (uploaded to each device). */
const r = rng(SEED);
const host = {
  x: randn(2 * 8 * 6 * 6, r),
  w: randn(8 * 8 * 3 * 3, r, 0.2),
  bias: randn(8, r),
  gamma: randn(8, r),
  m: randn(36 * 12, r, 0.3),
};

function upload(device: Device): Record<keyof typeof host, Tensor> {
  return {
    x: tensor(device, host.x, [2, 8, 6, 6]),
    w: tensor(device, host.w, [8, 8, 3, 3], { exact: true }),
    bias: tensor(device, host.bias, [8]),
    gamma: tensor(device, host.gamma, [8]),
    m: tensor(device, host.m, [36, 12]),
  };
}

/** A small UNet-like block over several kernel families (conv, norm, matmul, attention, copies). */
function block(t: Record<keyof typeof host, Tensor>): Tensor {
  const h = conv2d(t.x, t.w, { bias: t.bias, padding: 1, activation: 'silu' });
  const n = groupNorm(h, { groups: 2, eps: 1e-5, weight: t.gamma, silu: true });
  const q = matmul(n.reshape([2, 8, 36]), t.m); // [2, 8, 12]
  const a = attention(q, q, q, { heads: 2 });
  return silu(add(concat([a, q], 1), concat([q, a], 1)));
}

/** Runs `block` on `device`, reads its output and frees everything. */
async function run(device: Device, t: Record<keyof typeof host, Tensor>): Promise<Float32Array> {
  const out = device.scope(() => block(t));
  try {
    return (await out.read()) as Float32Array;
  } finally {
    out.dispose();
  }
}

describe('planned steps', () => {
  let device: Device;
  let inputs: Record<keyof typeof host, Tensor>;
  let expected: Float32Array;
  afterAll(() => {
    for (const t of Object.values(inputs ?? {})) t.dispose();
  });

  it('compileAhead compiles every pipeline a computation needs, with results identical to compiling on first use', async () => {
    // The baseline compiles on first use, on a device of its own.
    const plain = await createDevice();
    try {
      const t = upload(plain);
      expected = await run(plain, t);
      expect(plain.caches().pipelinesCompiled).toBeGreaterThan(0);
    } finally {
      plain.destroy();
    }

    device = await testDevice();
    inputs = upload(device);
    const before = device.memory().liveBytes;
    device.resetCounters();
    const { compiled } = await device.compileAhead(() => block(inputs));
    expect(compiled).toBeGreaterThan(3);
    expect(device.caches().pipelinesCompiled).toBe(compiled);
    // Nothing ran, nothing was submitted, and the planned tensors were freed.
    expect(device.counters()).toMatchObject({ dispatches: 0, submits: 0 });
    expect(device.memory().liveBytes).toBe(before);

    device.resetCounters();
    const got = await run(device, inputs);
    expect(device.caches().pipelinesCompiled).toBe(0);
    expect(got).toEqual(expected);
    // Planning again finds everything compiled.
    expect(await device.compileAhead(() => block(inputs))).toEqual({ compiled: 0 });
  });

  it('resumes dispatching when fn throws or is asynchronous', async () => {
    const live = device.memory().liveBytes;
    await expect(
      device.compileAhead(() => {
        block(inputs);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(device.compileAhead(async () => block(inputs))).rejects.toThrow(/synchronous/);
    expect(device.recorder.paused).toBe(false);
    expect(device.memory().liveBytes).toBe(live);
    device.resetCounters();
    const got = await run(device, inputs);
    expect(device.counters().dispatches).toBeGreaterThan(0);
    expect(got).toEqual(expected);
  });

  it('a repeated identical computation creates no bind groups and gives identical results', async () => {
    // The pool may hand buffers back in another order on the next run or two; then it repeats.
    for (let i = 0; i < 2; i++) await run(device, inputs);
    device.resetCounters();
    const got = await run(device, inputs);
    const caches = device.caches();
    expect(caches.bindGroupsCreated).toBe(0);
    expect(caches.bindGroupsReused).toBe(device.counters().dispatches);
    expect(got).toEqual(expected);
  });

  it('drops the bind groups of destroyed buffers, and computes correctly after pool.trim()', async () => {
    await run(device, inputs);
    const held = device.caches().bindGroups;
    device.pool.trim();
    expect(device.caches().bindGroups).toBeLessThan(held);

    device.resetCounters();
    const got = await run(device, inputs);
    expect(device.caches().bindGroupsCreated).toBeGreaterThan(0);
    expect(got).toEqual(expected);
    await device.sync(); // throws if the GPU reported a validation error (a destroyed buffer bound)

    // An exact-size (weight) buffer is destroyed on dispose, and its bind groups go with it.
    const fresh = tensor(device, host.w, [8, 8, 3, 3], { exact: true });
    const out = device.scope(() => conv2d(inputs.x, fresh, { padding: 1 }));
    await out.read();
    out.dispose();
    const withWeight = device.caches().bindGroups;
    fresh.dispose();
    expect(device.caches().bindGroups).toBeLessThan(withWeight);
  });
});
