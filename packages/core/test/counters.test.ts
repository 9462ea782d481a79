import { describe, expect, it } from 'vitest';
import { attention, conv2d, matmul, zeros } from '../src/index.ts';
import { testDevice } from './helpers.ts';

describe('device.counters()', () => {
  it('counts dispatches, submissions and the direct algorithm’s FLOPs whatever kernel runs', async () => {
    const device = await testDevice();
    const count = (fn: () => void) => {
      device.resetCounters();
      device.scope(fn);
      return device.counters();
    };
    const [b, c, o, h, w] = [2, 64, 64, 16, 16];
    const direct = 2 * b * o * h * w * c * 9;
    for (const variant of ['direct', 'implicit', 'winograd']) {
      const x = zeros(device, [b, c, h, w]);
      const wt = zeros(device, [o, c, 3, 3]);
      const got = count(() => conv2d(x, wt, { padding: 1, variant }));
      expect(got.flops, variant).toBe(direct);
      expect(got.dispatches, variant).toBeGreaterThanOrEqual(variant === 'winograd' ? 4 : 1);
    }
    expect(count(() => matmul(zeros(device, [3, 5, 7]), zeros(device, [7, 11]))).flops).toBe(2 * 3 * 5 * 7 * 11);
    expect(count(() => attention(zeros(device, [2, 10, 16]), zeros(device, [2, 6, 16]), zeros(device, [2, 6, 16]), { heads: 2 })).flops).toBe(4 * 2 * 2 * 10 * 6 * 8);
    await device.sync();
    device.resetCounters();
    expect(device.counters()).toEqual({ dispatches: 0, flops: 0, submits: 0 });
    device.scope(() => matmul(zeros(device, [4, 4]), zeros(device, [4, 4])));
    await device.sync();
    expect(device.counters().submits).toBe(1);
  });
});
