// The quiet wait: sleeps for most of the predicted GPU time before it creates the promise (whose
// pending state makes the `webgpu` binding spin), learns its rate from the waits it makes, and
// relearns below an oversleep. Promises here are timers standing in for the GPU.

import { describe, expect, it } from 'vitest';
import { DeviceLostError } from '../src/errors.ts';
import { conv2d, matmul, silu, tensor } from '../src/index.ts';
import { QUIET_FRACTION, OVERSLEEP_BACKOFF, QuietWait, SPIN_DISCOUNT, sleep } from '../src/quiet.ts';
import { DeviceLoss } from '../src/recorder.ts';
import { testDevice } from './helpers.ts';

/** Runs one wait window: `cost` submitted, the "GPU" busy for `gpuMs` after submission. */
async function window(wait: QuietWait, loss: DeviceLoss, cost: number, gpuMs: number): Promise<{ promisedAfterMs: number; totalMs: number }> {
  wait.add(cost);
  wait.submitted();
  const start = performance.now();
  let promisedAfterMs = -1;
  await wait.until(() => {
    promisedAfterMs = performance.now() - start;
    // +1: Node's timers may fire up to 1 ms early, and the "GPU" must be busy for gpuMs.
    return sleep(Math.max(0, gpuMs - promisedAfterMs) + 1);
  }, loss);
  return { promisedAfterMs, totalMs: performance.now() - start };
}

/** A wait that has seen the GPU busy for `busyMs` (which bounds its sleeps at twice that). */
async function seen(busyMs: number): Promise<{ wait: QuietWait; loss: DeviceLoss }> {
  const wait = new QuietWait();
  const loss = new DeviceLoss();
  await window(wait, loss, 1000, busyMs);
  return { wait, loss };
}

describe('QuietWait', () => {
  it('awaits at once until it has a rate, then sleeps QUIET_FRACTION of the prediction first', async () => {
    const wait = new QuietWait();
    const loss = new DeviceLoss();
    const first = await window(wait, loss, 1000, 80);
    expect(first.promisedAfterMs).toBeLessThan(5);
    // Awaited from the start, so learned at SPIN_DISCOUNT of what it measured.
    expect(wait.msPerCost).toBeGreaterThanOrEqual((SPIN_DISCOUNT * 79) / 1000);
    expect(wait.msPerCost).toBeLessThanOrEqual((SPIN_DISCOUNT * (first.totalMs + 1)) / 1000);
    const rate = wait.msPerCost;
    const second = await window(wait, loss, 1000, 80);
    // Slept until QUIET_FRACTION of the predicted 1000 × rate ms, then awaited the rest.
    expect(second.promisedAfterMs).toBeGreaterThanOrEqual(QUIET_FRACTION * 1000 * rate - 2);
    expect(second.promisedAfterMs).toBeLessThan(second.totalMs);
  });

  it('sleeps on its first wait when restored from an earlier calibration, and refuses a bad one', async () => {
    const { wait: learned } = await seen(120);
    const saved = learned.calibration();
    expect(saved.longestBusyMs).toBeGreaterThanOrEqual(100); // timers may fire a little early
    const wait = new QuietWait();
    wait.calibrate(saved);
    expect(wait.calibration()).toEqual(saved);
    const { promisedAfterMs } = await window(wait, new DeviceLoss(), 1000, 120);
    expect(promisedAfterMs).toBeGreaterThanOrEqual(QUIET_FRACTION * 1000 * saved.msPerCost - 2);
    for (const bad of [{ msPerCost: -1, longestBusyMs: 1 }, { msPerCost: 0.1, longestBusyMs: NaN }, { msPerCost: Infinity, longestBusyMs: 1 }, null]) {
      expect(() => wait.calibrate(bad as never)).toThrow(RangeError);
    }
    expect(wait.calibration().msPerCost).toBeGreaterThan(0); // a refused calibration changes nothing
  });

  it('sleeps the whole predicted time of a long wait (in slices), not a capped part of it', async () => {
    const { wait, loss } = await seen(900);
    wait.msPerCost = 1; // 1 ms per unit of cost
    const { promisedAfterMs } = await window(wait, loss, 1500, 1500);
    expect(promisedAfterMs).toBeGreaterThanOrEqual(QUIET_FRACTION * 1500 - 2);
    expect(wait.sliceMs).toBeLessThan(QUIET_FRACTION * 1500);
  });

  it('relearns below the sleep when the work was done before the sleep ended', async () => {
    const { wait, loss } = await seen(150);
    wait.msPerCost = 0.2; // predicts 200 ms for work that takes 0
    const { totalMs } = await window(wait, loss, 1000, 0);
    expect(totalMs).toBeGreaterThanOrEqual(QUIET_FRACTION * 200 - 2);
    // The oversleep measured only an upper bound: learned at OVERSLEEP_BACKOFF of it.
    expect(wait.msPerCost).toBeLessThanOrEqual((OVERSLEEP_BACKOFF * (totalMs + 1)) / 1000);
  });

  it('learns nothing from a wait that found the GPU idle without sleeping (it timed the JS thread)', async () => {
    const wait = new QuietWait();
    const loss = new DeviceLoss();
    wait.add(1000);
    wait.submitted();
    await sleep(60); // the JS thread busy elsewhere while the "GPU" was done at once
    await wait.until(() => Promise.resolve(), loss);
    expect(wait.msPerCost).toBe(0);
  });

  it('follows a faster rate at once and a slower one at most 2x per wait', async () => {
    const wait = new QuietWait();
    const loss = new DeviceLoss();
    wait.msPerCost = 0.01; // predicts 10 ms for work that takes 100
    await window(wait, loss, 1000, 100);
    expect(wait.msPerCost).toBeCloseTo(0.02, 6);
    wait.msPerCost = 0.1; // predicts 100 ms for work that takes 30: oversleeps, relearns below the sleep
    const { totalMs } = await window(wait, loss, 1000, 30);
    expect(wait.msPerCost).toBeCloseTo((OVERSLEEP_BACKOFF * totalMs) / 1000, 2);
    expect(wait.msPerCost).toBeLessThan(0.1);
  });

  it('never sleeps past twice the longest wait that found the GPU busy, whatever the rate', async () => {
    const { wait, loss } = await seen(60);
    wait.msPerCost = 100; // an absurd rate: would predict 100 s
    const { promisedAfterMs } = await window(wait, loss, 1000, 10);
    expect(promisedAfterMs).toBeLessThan(2 * 60 * QUIET_FRACTION + 30);
  });

  it('rejects with the loss within one slice when the device is lost during the sleep', async () => {
    const { wait, loss } = await seen(100);
    wait.msPerCost = 10; // a 10 s prediction (slept up to twice the 100 ms seen)
    const lostError = new DeviceLostError('test loss');
    setTimeout(() => loss.report(lostError), 50);
    const start = performance.now();
    let promised = false;
    await expect(
      (async () => {
        wait.add(1000);
        wait.submitted();
        await wait.until(() => {
          promised = true;
          return new Promise(() => undefined);
        }, loss);
      })(),
    ).rejects.toBe(lostError);
    expect(performance.now() - start).toBeLessThan(50 + wait.sliceMs + 200);
    expect(promised).toBe(false);
  });

  it('learns on the device although each window uploads a tensor (a sampling loop uploads its timestep)', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const a = tensor(device, new Float32Array(256 * 256).fill(0.01), [256, 256]);
    const step = (repeats: number): void => {
      const t = tensor(device, [501, 501], [2]); // uploaded inside the window
      for (let i = 0; i < repeats; i++) device.scope(() => void matmul(a, a));
      t.dispose();
    };
    step(1); // compiles the pipeline: that window is not learned from
    await device.sync();
    // Grow the window until it is long enough to learn from (20 ms), whatever the adapter's speed.
    let repeats = 1;
    for (let tries = 0; tries < 12 && device.recorder.wait.msPerCost === 0; tries++, repeats *= 2) {
      step(repeats);
      await device.sync();
    }
    expect(device.recorder.wait.msPerCost).toBeGreaterThan(0);
    a.dispose();
  });

  it('learns from the first window after compileAhead on an idle GPU, not after compiling with work in flight', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const a = tensor(device, new Float32Array(256 * 256).fill(0.01), [256, 256]);
    const img = tensor(device, new Float32Array(4 * 8 * 8).fill(0.01), [1, 4, 8, 8]);
    const w3 = tensor(device, new Float32Array(8 * 4 * 9).fill(0.01), [8, 4, 3, 3]);
    const wait = device.recorder.wait;
    const run = (repeats: number): void => {
      for (let i = 0; i < repeats; i++) device.scope(() => void matmul(a, a));
      device.recorder.flush();
    };
    // A window long enough to learn from, whatever the adapter's speed (a wait times the work
    // left after the last submission), then 4 times that.
    let repeats = 4;
    wait.msPerCost = 0;
    for (let tries = 0; tries < 12 && wait.msPerCost === 0; tries++, repeats *= 2) {
      run(repeats);
      await device.sync();
    }
    repeats *= 4;
    // Compiled with nothing in flight: the next window is learned from.
    wait.msPerCost = 0;
    expect((await device.compileAhead(() => device.scope(() => void conv2d(img, w3, { padding: 1 })))).compiled).toBeGreaterThan(0);
    expect(wait.tainted).toBe(false);
    run(repeats);
    await device.sync();
    expect(wait.msPerCost).toBeGreaterThan(0);
    // Compiled while work was submitted: that window is not.
    run(repeats);
    expect((await device.compileAhead(() => device.scope(() => void silu(img)))).compiled).toBeGreaterThan(0);
    expect(wait.tainted).toBe(true);
    await device.sync();
    for (const t of [a, img, w3]) t.dispose();
  });
});
