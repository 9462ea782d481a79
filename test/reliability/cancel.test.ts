// Cancellation and concurrency beyond packages/unicontrol/test/pipeline.test.ts (which aborts once
// at step 2 and runs two calls concurrently): aborting before the call, while queued, at the first,
// a middle and the last step, and from a timer; a throwing onProgress; and a mixed concurrent batch
// (different seeds and samplers, one aborted, one invalid) against the same calls run one by one.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { readTokenizer, UniControlPipeline, type GenerateOptions, type GenerateResult, type RgbaImage } from '@unicontrol/unicontrol';
import { ensure, environment, HAVE_SHARED, rejection, TINY_MODEL, TINY_SETTINGS, VOCAB } from './helpers.ts';
import { Tally } from './record.ts';

const tally = new Tally(
  'cancel',
  'Cancellation and concurrency',
  50,
  'an aborted call rejects with the signal\'s reason, at most one step after the abort, leaving live GPU bytes and buffers as before the call, and the next call gives the same image as an undisturbed run; concurrent calls on one pipeline give exactly the images of the same calls run one by one.',
);

describe.skipIf(!HAVE_SHARED)('cancellation and concurrency', () => {
  let device: Device;
  let pipeline: UniControlPipeline;
  const image: RgbaImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).map((_, i) => (i * 13) & 255) };
  const base: GenerateOptions = { prompt: 'a boat', task: 'canny', image, steps: 5, seed: 11, resolution: 64 };
  let reference: GenerateResult;

  beforeAll(async () => {
    device = await createDevice();
    pipeline = new UniControlPipeline(await UniControlModel.load(device, TINY_MODEL, { settings: TINY_SETTINGS }), await readTokenizer(VOCAB));
    reference = await pipeline.generate(base);
  });
  afterAll(() => {
    tally.save(environment(device));
    pipeline?.dispose();
    device?.destroy();
  });

  const same = (a: GenerateResult, b: GenerateResult): boolean => Buffer.from(a.images[0].rgba).equals(Buffer.from(b.images[0].rgba));

  /** Runs `o` with an abort at progress step `at` (0-based); checks the stop, the memory and the next call. */
  async function abortAt(at: number, o: GenerateOptions = base): Promise<string> {
    const before = device.memory();
    const abort = new AbortController();
    const reason = new Error(`stop at ${at}`);
    const seen: number[] = [];
    const err = await rejection(() =>
      pipeline.generate({
        ...o,
        signal: abort.signal,
        onProgress: (p) => {
          seen.push(p.step);
          if (p.step === at) abort.abort(reason);
        },
      }),
    );
    ensure(err === reason, `rejected with ${err.name}: ${err.message}`);
    const after = seen.filter((s) => s > at).length;
    ensure(after <= 1, `${after} steps reported after the abort`);
    const now = device.memory();
    ensure(now.liveBytes === before.liveBytes && now.liveBuffers === before.liveBuffers, `live ${before.liveBytes} B / ${before.liveBuffers} → ${now.liveBytes} B / ${now.liveBuffers}`);
    ensure(same(await pipeline.generate(base), reference), 'the next call differs from an undisturbed run');
    return `rejected with the reason after ${seen.length} progress reports (${after} after the abort); memory as before; next call identical`;
  }

  it('aborting stops within one step, frees what the call held, and the next call is undisturbed', async () => {
    const G = 'abort';
    tally.group(G, 'before the call, while queued, at steps 1, 3 and 5 of 5 (with and without previews, every sampler), from a timer; onProgress throwing');
    await tally.check(G, 'signal aborted before the call', async () => {
      const dispatches = device.recorder.dispatches;
      const reason = new Error('never mind');
      const err = await rejection(() => pipeline.generate({ ...base, signal: AbortSignal.abort(reason) }));
      ensure(err === reason, `rejected with ${err.name}: ${err.message}`);
      ensure(device.recorder.dispatches === dispatches, 'GPU work was recorded');
      return 'rejected with the reason, no GPU work';
    });
    await tally.check(G, 'aborted while queued behind another call', async () => {
      const abort = new AbortController();
      let ran = false;
      const first = pipeline.generate({ ...base, onProgress: () => abort.abort(new Error('queued stop')) });
      const queued = pipeline.generate({ ...base, signal: abort.signal, onProgress: () => void (ran = true) });
      const err = await rejection(() => queued);
      ensure(err.message === 'queued stop', `rejected with ${err.message}`);
      ensure(!ran, 'the queued call ran steps');
      ensure(same(await first, reference), 'the call ahead of it was disturbed');
      return 'the queued call rejected without running; the one ahead finished undisturbed';
    });
    for (const at of [0, 2, 4]) await tally.check(G, `abort at step ${at + 1} of 5`, () => abortAt(at));
    await tally.check(G, 'abort at step 2 of 5 with previews every step', () => abortAt(1, { ...base, preview: 1 }));
    await tally.check(G, 'abort at step 3 of 5, ddpm', () => abortAt(2, { ...base, sampler: 'ddpm' }));
    await tally.check(G, 'abort at step 3 of 5, dpmpp2m', () => abortAt(2, { ...base, sampler: 'dpmpp2m' }));
    await tally.check(G, 'abort from a timer mid-sampling', async () => {
      const before = device.memory();
      const abort = new AbortController();
      let steps = 0;
      let abortedAfter = -1;
      const run = pipeline.generate({ ...base, steps: 20, signal: abort.signal, onProgress: () => void steps++ });
      const timer = setInterval(() => {
        if (steps >= 3 && abortedAfter < 0) {
          abortedAfter = steps;
          abort.abort(new Error('timer'));
        }
      }, 1);
      const err = await rejection(() => run);
      clearInterval(timer);
      ensure(err.message === 'timer', `rejected with ${err.message}`);
      ensure(steps - abortedAfter <= 1, `${steps - abortedAfter} steps after the abort`);
      ensure(device.memory().liveBytes === before.liveBytes, 'memory not returned');
      return `stopped at step ${steps} of 20 (abort after ${abortedAfter})`;
    });
    await tally.check(G, 'onProgress throwing ends the call with its error', async () => {
      const before = device.memory();
      const boom = new Error('progress handler failed');
      const err = await rejection(() => pipeline.generate({ ...base, onProgress: (p) => { if (p.step === 1) throw boom; } }));
      ensure(err === boom, `rejected with ${err.name}: ${err.message}`);
      ensure(device.memory().liveBytes === before.liveBytes, 'memory not returned');
      ensure(same(await pipeline.generate(base), reference), 'the next call differs');
      return 'rejected with the handler\'s error; memory as before; next call identical';
    });
    expect(tally.failures(G)).toEqual([]);
  });

  it('concurrent calls give exactly the images of the same calls run one by one', async () => {
    const G = 'concurrency';
    tally.group(G, '6 calls at once (seeds, samplers, 2 samples, a preview), one of them aborted and one invalid, vs the same calls in sequence');
    const short = { ...base, steps: 3 };
    const calls: GenerateOptions[] = [
      { ...short, seed: 1 },
      { ...short, seed: 2, sampler: 'ddpm' },
      { ...short, seed: 3, sampler: 'dpmpp2m', preview: 1 },
      { ...short, seed: 4, samples: 2 },
      { ...short, seed: 5, guessMode: true },
      { ...short, seed: 6, steps: 2 },
    ];
    const sequential: GenerateResult[] = [];
    for (const c of calls) sequential.push(await pipeline.generate(c));
    const before = device.memory();
    const abort = new AbortController();
    const all = await Promise.allSettled([
      ...calls.map((c) => pipeline.generate(c)),
      pipeline.generate({ ...base, seed: 9, signal: abort.signal, onProgress: () => abort.abort(new Error('one aborted')) }),
      pipeline.generate({ ...base, steps: -1 }),
    ]);
    for (const [i, c] of calls.entries()) {
      await tally.check(G, `call ${i + 1} (seed ${String(c.seed)}${c.sampler ? `, ${c.sampler}` : ''}${c.samples ? `, ${c.samples} samples` : ''}${c.guessMode ? ', guess mode' : ''})`, () => {
        const r = all[i];
        ensure(r.status === 'fulfilled', `rejected: ${r.status === 'rejected' ? String(r.reason) : ''}`);
        ensure(r.value.images.length === sequential[i].images.length && r.value.images.every((img, k) => Buffer.from(img.rgba).equals(Buffer.from(sequential[i].images[k].rgba))), 'images differ from the sequential run');
        return 'identical to the sequential run';
      });
    }
    await tally.check(G, 'the aborted call among them', () => {
      const r = all[calls.length];
      ensure(r.status === 'rejected' && (r.reason as Error).message === 'one aborted', `settled as ${r.status}`);
      return 'rejected with its reason';
    });
    await tally.check(G, 'the invalid call among them', () => {
      const r = all[calls.length + 1];
      ensure(r.status === 'rejected' && /steps must be an integer/.test((r.reason as Error).message), `settled as ${r.status}`);
      return `rejected: ${(r.reason as Error).message}`;
    });
    await tally.check(G, 'memory after the batch', () => {
      const now = device.memory();
      ensure(now.liveBytes === before.liveBytes && now.liveBuffers === before.liveBuffers, `live ${before.liveBytes} → ${now.liveBytes}`);
      return `live ${now.liveBytes} B in ${now.liveBuffers} buffers, as before`;
    });
    expect(tally.failures(G)).toEqual([]);
  });
});
