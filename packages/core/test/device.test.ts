import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { AdapterError, add, createDevice, DeviceLostError, empty, SETUP_COMMAND, silu, tensor, zeros } from '../src/index.ts';
import { testDevice } from './helpers.ts';

describe('device', () => {
  it('reports the adapter and takes its largest limits', async () => {
    const device = await testDevice();
    const a = device.adapter;
    expect(a.name.length).toBeGreaterThan(0);
    expect(a.features).toContain('shader-f16');
    expect(device.hasF16).toBe(true);
    expect(a.limits.maxStorageBufferBindingSize).toBe(device.limits.maxStorageBufferBindingSize);
    // lavapipe allows 128 MiB per binding and 32 KiB of workgroup storage; WebGPU's defaults are lower
    expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(device.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(32 * 1024);
    expect(device.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(1024);
  });

  it('names the setup command when no adapter is found', async () => {
    const err = await createDevice({ backend: 'metal' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as Error).message).toContain(SETUP_COMMAND);
  });

  it('lists the adapters when a named adapter does not exist', async () => {
    const err = await createDevice({ adapter: 'no-such-adapter' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect((err as Error).message).toMatch(/Available adapters/);
  });

  it('puts one tile of 8 lanes per subgroup workgroup per 8 lanes of the smallest subgroup, and refuses other counts', async () => {
    const device = await testDevice();
    const minSize = device.gpu.adapterInfo?.subgroupMinSize ?? 8;
    // lavapipe's subgroups are 8 wide: 1; NVIDIA's 32: 4.
    expect(device.laneGroups).toBe(minSize >= 32 ? 4 : minSize >= 16 ? 2 : 1);
    const err = await createDevice({ laneGroups: 3 as 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toBe('createDevice: laneGroups must be 1, 2 or 4, got 3');
  });

  it('can go without float16 storage', async () => {
    const device = await createDevice({ f16: false });
    try {
      expect(device.hasF16).toBe(false);
      expect(() => zeros(device, [2], 'f16')).toThrow(/shader-f16/);
    } finally {
      device.destroy();
    }
  });

  it('surfaces device loss on the next op, and a new device works', async () => {
    const device = await createDevice();
    const x = tensor(device, [1, 2, 3], [3]);
    device.gpu.destroy();
    await device.gpu.lost;
    expect(device.lost).toBe(true);
    expect(() => silu(x)).toThrow(DeviceLostError);
    await expect(x.read()).rejects.toThrow(DeviceLostError);
    const fresh = await createDevice();
    try {
      const y = add(tensor(fresh, [1, 2, 3], [3]), tensor(fresh, [10], [1]));
      expect(Array.from(await y.read())).toEqual([11, 12, 13]);
    } finally {
      fresh.destroy();
    }
  });
});

describe('tensors and memory', () => {
  it('round-trips f32, f16 and i32 data', async () => {
    const device = await testDevice();
    expect(Array.from(await tensor(device, [1.5, -2, 3e5], [3]).read())).toEqual([1.5, -2, 3e5]);
    expect(Array.from(await tensor(device, [1.5, -2, 0.1], [3], { dtype: 'f16' }).read())).toEqual([1.5, -2, 0.0999755859375]);
    expect(Array.from(await tensor(device, new Int32Array([-7, 0, 2 ** 31 - 1]), [3]).read())).toEqual([-7, 0, 2 ** 31 - 1]);
    // odd byte counts (f16 with an odd number of elements) pad to 4 bytes
    expect(Array.from(await tensor(device, [1, 2, 3, 4, 5], [5], { dtype: 'f16' }).read())).toEqual([1, 2, 3, 4, 5]);
  });

  it('poisons op outputs with NaN in test devices, so an unwritten element shows', async () => {
    const device = await testDevice();
    const values = await empty(device, [5], 'f32').read();
    expect(Array.from(values).every(Number.isNaN)).toBe(true);
    const halves = await empty(device, [3], 'f16').read();
    expect(Array.from(halves).every(Number.isNaN)).toBe(true);
  });

  it('rejects data that does not fill the shape', async () => {
    const device = await testDevice();
    expect(() => tensor(device, [1, 2, 3], [2, 2])).toThrow('tensor: 3 values do not fill shape [2, 2] (4 elements)');
  });

  it('reshape is a view sharing the buffer; the buffer lives until the last view is disposed', async () => {
    const device = await testDevice();
    const before = device.memory().liveBuffers;
    const x = tensor(device, [1, 2, 3, 4, 5, 6], [2, 3]);
    const v = x.reshape([3, -1]);
    expect(v.shape).toEqual([3, 2]);
    expect(v.buffer).toBe(x.buffer);
    expect(() => x.reshape([4, -1])).toThrow('reshape: cannot reshape [2, 3] to [4, -1]');
    x.dispose();
    expect(device.memory().liveBuffers).toBe(before + 1);
    expect(Array.from(await v.read())).toEqual([1, 2, 3, 4, 5, 6]);
    v.dispose();
    expect(device.memory().liveBuffers).toBe(before);
    expect(() => silu(v)).toThrow(/disposed/);
  });

  it('scope frees what it made except what it returns, and the pool reuses buffers', async () => {
    const device = await testDevice();
    const x = tensor(device, [1, 2, 3], [3]);
    const start = device.memory();
    const kept = device.scope(() => {
      const a = silu(x);
      const b = add(a, a);
      return { result: add(b, x), other: [silu(b)] };
    });
    const after = device.memory();
    expect(after.liveBuffers).toBe(start.liveBuffers + 2);
    expect(after.peakBytes).toBeGreaterThan(after.liveBytes);
    kept.result.dispose();
    kept.other[0].dispose();
    expect(device.memory().liveBytes).toBe(start.liveBytes);
    // the same computation again allocates nothing new: every buffer comes from the pool
    const pooled = device.memory().pooledBuffers;
    const allocated = device.memory().peakAllocatedBytes;
    device.scope(() => void add(add(silu(x), silu(x)), x));
    expect(device.memory().pooledBuffers).toBe(pooled);
    expect(device.memory().liveBytes).toBe(start.liveBytes);
    expect(device.memory().peakAllocatedBytes).toBe(allocated);
    expect(allocated).toBe(device.memory().liveBytes + device.memory().pooledBytes);
  });

  it('nested scopes move returned tensors to the parent; async scopes wait for the result', async () => {
    const device = await testDevice();
    const x = tensor(device, [1, 2], [2]);
    const live0 = device.memory().liveBuffers;
    const outer = device.scope(() => {
      const inner = device.scope(() => silu(silu(x)));
      expect(inner.disposed).toBe(false);
      return undefined; // inner was moved to this scope, so it is freed here
    });
    expect(outer).toBeUndefined();
    expect(device.memory().liveBuffers).toBe(live0);
    const values = await device.scope(async () => Array.from(await silu(silu(x)).read()));
    expect(values.length).toBe(2);
    expect(device.memory().liveBuffers).toBe(live0);
    const kept = device.scope(() => silu(x).keep() && silu(x));
    expect(device.memory().liveBuffers).toBe(live0 + 2); // the kept one and the returned one
    kept.dispose();
  });

  it('refuses, naming the kernel and tensor, a tensor beyond the storage binding limit; binds a big pooled buffer within it', async () => {
    const device = await createDevice(); // no NaN poisoning: its fill kernel would refuse first
    const limit = device.limits.maxStorageBufferBindingSize;
    device.scope(() => {
      const over = ops.empty(device, [limit / 4 + 1]);
      expect(() => ops.addScalar(over, 1)).toThrow(`unary: tensor [${limit / 4 + 1}] f32 is ${limit + 4} bytes, over this device's limit of ${limit} bytes per storage binding`);
    });
    // Just under the limit: the pool's size class is larger than the limit, the binding is not.
    const n = limit / 4 - 1024;
    const y = device.scope(() => ops.sliceAxis(ops.addScalar(ops.zeros(device, [n]), 2), 0, n - 2, n));
    expect([...(await y.read())]).toEqual([2, 2]);
    device.destroy();
  });

  it('trims the pool', async () => {
    const device = await testDevice();
    device.scope(() => void silu(zeros(device, [1000])));
    expect(device.memory().pooledBuffers).toBeGreaterThan(0);
    device.pool.trim();
    expect(device.memory().pooledBytes).toBe(0);
  });
});
