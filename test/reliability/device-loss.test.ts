// A device destroyed mid-generation: the call must reject with DeviceLostError (never hang, never
// an unhandled rejection), later calls on that pipeline too, and a new pipeline on a new device
// must work. The device is destroyed from onProgress at chosen steps (sampling, previews pending,
// the last step so that the decode hits it), from timers at chosen delays, and before the call.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, DeviceLostError, type Device } from '@unicontrol/core';
import { UniControlModel, type ClipTokenizer } from '@unicontrol/model';
import { readTokenizer, UniControlPipeline, type GenerateOptions, type RgbaImage } from '@unicontrol/unicontrol';
import { DeviceLoss } from '../../packages/core/src/recorder.ts';
import { ensure, environment, HAVE_SHARED, rejection, TINY_MODEL, TINY_SETTINGS, VOCAB } from './helpers.ts';
import { Tally } from './record.ts';

/** A rejection must come within this long of the loss (milliseconds); a hang fails here. */
const HANG_MS = 20_000;

const tally = new Tally(
  'device-loss',
  'Device loss',
  40,
  '`generate()` rejects with `DeviceLostError` within 20 s of `device.gpu.destroy()` or `Device.destroy()` (no hang, no unhandled rejection, no other error type), calls queued behind it reject the same way, and a new pipeline on a new device then generates.',
);

describe.skipIf(!HAVE_SHARED)('device loss', () => {
  let tokenizer: ClipTokenizer;
  let adapter: Device | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  const image: RgbaImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).map((_, i) => (i * 7) & 255) };
  const base: GenerateOptions = { prompt: 'a cat', task: 'canny', image, steps: 6, seed: 3, resolution: 64 };

  beforeAll(async () => {
    tokenizer = await readTokenizer(VOCAB);
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    tally.save(environment(adapter));
    adapter?.destroy();
  });

  async function freshPipeline(): Promise<UniControlPipeline> {
    const device = await createDevice();
    return new UniControlPipeline(await UniControlModel.load(device, TINY_MODEL, { settings: TINY_SETTINGS }), tokenizer);
  }

  /** Runs `start` (which destroys the device somehow) and checks how the call ends. */
  async function expectLost(run: Promise<unknown>, lostAt: () => number | undefined): Promise<string> {
    const outcome = await Promise.race([
      run.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      new Promise((resolve) => setTimeout(() => resolve('hang'), HANG_MS)),
    ]);
    ensure(outcome !== 'hang', `no answer ${HANG_MS} ms after the loss`);
    ensure(outcome !== 'resolved', 'resolved although the device was destroyed');
    ensure(outcome instanceof DeviceLostError, `rejected with ${(outcome as Error).name}: ${(outcome as Error).message}`);
    const at = lostAt();
    const ms = at === undefined ? undefined : performance.now() - at;
    return `DeviceLostError${ms === undefined ? '' : ` ${ms.toFixed(0)} ms after the loss`}: ${outcome.message}`;
  }

  it('rejects with DeviceLostError wherever the device is destroyed; a new device works', async () => {
    const G1 = 'destroyed from onProgress';
    const G2 = 'destroyed from a timer';
    const G3 = 'before and after the loss';
    tally.group(G1, 'gpu.destroy() or Device.destroy() at step 1, 3 and the last (the decode follows), with previews pending');
    tally.group(G2, 'gpu.destroy() 0, 20, 60, 150 and 300 ms after generate() starts');
    tally.group(G3, 'destroyed before the call, a call queued behind the lost one, a new pipeline on a new device');

    const progressCases: [string, number, 'gpu' | 'device', boolean][] = [
      ['gpu.destroy() at step 1 of 6', 0, 'gpu', false],
      ['Device.destroy() at step 1 of 6', 0, 'device', false],
      ['gpu.destroy() at step 3 of 6, previews every step', 2, 'gpu', true],
      ['Device.destroy() at step 3 of 6, previews every step', 2, 'device', true],
      ['gpu.destroy() at the last step (decode next)', 5, 'gpu', false],
      ['Device.destroy() at the last step (decode next)', 5, 'device', true],
    ];
    for (const [name, step, how, preview] of progressCases) {
      const pipeline = await freshPipeline();
      let lostAt: number | undefined;
      await tally.check(G1, name, () =>
        expectLost(
          pipeline.generate({
            ...base,
            preview,
            onProgress: (p) => {
              if (p.step !== step || lostAt !== undefined) return;
              lostAt = performance.now();
              if (how === 'gpu') pipeline.device.gpu.destroy();
              else pipeline.device.destroy();
            },
          }),
          () => lostAt,
        ),
      );
      pipeline.device.destroy();
    }

    for (const delay of [0, 20, 60, 150, 300]) {
      const pipeline = await freshPipeline();
      let lostAt: number | undefined;
      const run = pipeline.generate({ ...base, preview: 2 });
      const timer = setTimeout(() => {
        lostAt = performance.now();
        pipeline.device.gpu.destroy();
      }, delay);
      await tally.check(G2, `gpu.destroy() ${delay} ms after the call`, async () => {
        const outcome = await run.then(
          () => 'finished before the loss',
          () => undefined,
        );
        clearTimeout(timer);
        // A run faster than the delay is fine; a run the loss hit must have failed as lost.
        if (outcome) return outcome;
        return expectLost(run, () => lostAt);
      });
      pipeline.device.destroy();
    }

    const pipeline = await freshPipeline();
    pipeline.device.gpu.destroy();
    await pipeline.device.gpu.lost;
    await tally.check(G3, 'a call on a device destroyed before it', () => expectLost(pipeline.generate(base), () => undefined));
    const second = await freshPipeline();
    let lostAt: number | undefined;
    const first = second.generate({
      ...base,
      onProgress: (p) => {
        if (p.step === 1) {
          lostAt = performance.now();
          second.device.gpu.destroy();
        }
      },
    });
    const queued = second.generate({ ...base, seed: 4 });
    await tally.check(G3, 'the lost call', () => expectLost(first, () => lostAt));
    await tally.check(G3, 'a call queued behind the lost one', () => expectLost(queued, () => lostAt));
    pipeline.device.destroy();
    second.device.destroy();
    await tally.check(G3, 'a new pipeline on a new device generates afterwards', async () => {
      const fresh = await freshPipeline();
      adapter = await createDevice(); // for the page's environment line
      try {
        const r = await fresh.generate({ ...base, steps: 2 });
        ensure(r.images[0].rgba.length === 64 * 64 * 4, 'no image');
        return `image ${r.width}x${r.height}`;
      } finally {
        fresh.dispose();
        fresh.device.destroy();
      }
    });
    // The mechanism, without Dawn's timing: a wait on a promise that never settles (a destroyed
    // device may leave onSubmittedWorkDone pending) ends at the loss; an aborted map becomes the loss.
    const G4 = 'waits on a lost device (core)';
    tally.group(G4, 'DeviceLoss.race: a never-settling wait when the loss arrives; a failed wait followed by the loss; a wait after the loss');
    await tally.check(G4, 'a wait that never settles rejects at the loss', async () => {
      const loss = new DeviceLoss();
      const wait = loss.race(new Promise(() => undefined));
      loss.report(new DeviceLostError('gone'));
      return expectLost(wait, () => undefined);
    });
    await tally.check(G4, 'a wait that fails (AbortError) just before the loss reports the loss', async () => {
      const loss = new DeviceLoss();
      const wait = loss.race(Promise.reject(new DOMException('mapAsync aborted', 'AbortError')));
      setTimeout(() => loss.report(new DeviceLostError('gone')), 10);
      return expectLost(wait, () => undefined);
    });
    await tally.check(G4, 'a wait that fails on a healthy device keeps its own error', async () => {
      const loss = new DeviceLoss();
      const own = new Error('validation');
      const err = await rejection(() => loss.race(Promise.reject(own), 20));
      ensure(err === own, `${err.name}: ${err.message}`);
      return 'its own error after the grace period';
    });
    await tally.check(G4, 'a wait begun after the loss rejects at once', () => {
      const loss = new DeviceLoss();
      loss.report(new DeviceLostError('gone'));
      return expectLost(loss.race(new Promise(() => undefined)), () => undefined);
    });
    await tally.check(G3, 'no unhandled rejection during all of the above', () => {
      ensure(unhandled.length === 0, `unhandled: ${unhandled.map(String).join('; ')}`);
      return 'none';
    });
    expect(tally.failures()).toEqual([]);
  });
});
