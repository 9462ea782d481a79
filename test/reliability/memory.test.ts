// Long sessions: 100 consecutive generations on the tiny model (64 px, 2 steps) must end with the
// live GPU bytes and buffer count of the first, and disposing the pipeline must bring the device
// back to what it held before the model was loaded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device, type MemoryStats } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { readTokenizer, UniControlPipeline, type RgbaImage } from '@unicontrol/unicontrol';
import { ensure, environment, HAVE_SHARED, TINY_MODEL, TINY_SETTINGS, VOCAB } from './helpers.ts';
import { Tally } from './record.ts';

const RUNS = 100;

const tally = new Tally(
  'memory',
  'Memory over 100 generations',
  30,
  'after 100 consecutive `generate()` calls (tiny model, 64x64, 2 steps; seeds, samplers and previews varied) the live GPU bytes and buffer count equal those after the first call, after every call; `pipeline.dispose()` returns live bytes and buffers to their values before the model was loaded.',
);

const mib = (bytes: number): string => `${bytes.toLocaleString('en-US')} B (${(bytes / 2 ** 20).toFixed(2)} MiB)`;

describe.skipIf(!HAVE_SHARED)('memory stays flat over a long session', () => {
  let device: Device;
  afterAll(() => {
    tally.save(environment(device));
    device?.destroy();
  });
  beforeAll(async () => {
    device = await createDevice();
  });

  it(`${RUNS} generations end where the first did; dispose frees everything`, async () => {
    const G = `${RUNS} generations, then dispose`;
    tally.group(G, '64x64, 2 steps, seed i, samplers ddim/ddpm/dpmpp2m in turn, a preview every 4th call');
    const beforeLoad = device.memory();
    const model = await UniControlModel.load(device, TINY_MODEL, { settings: TINY_SETTINGS });
    const pipeline = new UniControlPipeline(model, await readTokenizer(VOCAB));
    const loaded = device.memory();
    const image: RgbaImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).map((_, i) => (i * 31) & 255) };
    const samplers = ['ddim', 'ddpm', 'dpmpp2m'] as const;
    const after: MemoryStats[] = [];
    const rss: number[] = [];
    const started = performance.now();
    for (let i = 0; i < RUNS; i++) {
      await pipeline.generate({ prompt: `run ${i}`, task: 'canny', image, steps: 2, seed: i, resolution: 64, sampler: samplers[i % 3], preview: i % 4 === 0 ? 1 : false });
      after.push(device.memory());
      rss.push(process.memoryUsage().rss);
    }
    const perRun = (performance.now() - started) / RUNS;
    const first = after[0];
    const last = after[RUNS - 1];
    await tally.check(G, `live GPU bytes after call ${RUNS} = after call 1`, () => {
      ensure(last.liveBytes === first.liveBytes, `${first.liveBytes} → ${last.liveBytes}`);
      return `${mib(first.liveBytes)} after both`;
    });
    await tally.check(G, `live GPU buffers after call ${RUNS} = after call 1`, () => {
      ensure(last.liveBuffers === first.liveBuffers, `${first.liveBuffers} → ${last.liveBuffers}`);
      return `${first.liveBuffers} buffers after both`;
    });
    await tally.check(G, 'live bytes and buffers identical after every call', () => {
      const off = after.findIndex((m) => m.liveBytes !== first.liveBytes || m.liveBuffers !== first.liveBuffers);
      ensure(off < 0, `call ${off + 1} ended at ${after[off]?.liveBytes} bytes in ${after[off]?.liveBuffers} buffers`);
      return `all ${RUNS} equal`;
    });
    await tally.check(G, 'the pool stops growing after the first calls', () => {
      const settled = after[9];
      ensure(last.pooledBytes === settled.pooledBytes && last.pooledBuffers === settled.pooledBuffers, `pooled ${settled.pooledBytes} B / ${settled.pooledBuffers} after call 10, ${last.pooledBytes} B / ${last.pooledBuffers} after call ${RUNS}`);
      return `pooled ${mib(last.pooledBytes)} in ${last.pooledBuffers} buffers after calls 10 and ${RUNS}`;
    });
    pipeline.dispose();
    const disposed = device.memory();
    await tally.check(G, 'dispose returns live bytes and buffers to the values before loading', () => {
      ensure(disposed.liveBytes === beforeLoad.liveBytes && disposed.liveBuffers === beforeLoad.liveBuffers, `before load ${beforeLoad.liveBytes} B / ${beforeLoad.liveBuffers}; after dispose ${disposed.liveBytes} B / ${disposed.liveBuffers}`);
      return `${disposed.liveBytes} B in ${disposed.liveBuffers} buffers, as before loading`;
    });
    device.pool.trim();
    const trimmed = device.memory();
    tally.figure('live GPU memory before loading the model', `${mib(beforeLoad.liveBytes)}, ${beforeLoad.liveBuffers} buffers`, true);
    tally.figure('live GPU memory after loading (the weights)', `${mib(loaded.liveBytes)}, ${loaded.liveBuffers} buffers`);
    tally.figure('live GPU memory after call 1', `${mib(first.liveBytes)}, ${first.liveBuffers} buffers`, true);
    tally.figure(`live GPU memory after call ${RUNS}`, `${mib(last.liveBytes)}, ${last.liveBuffers} buffers`, true);
    tally.figure('pooled (free, reusable) after call 1 / 10 / 100', `${mib(first.pooledBytes)} / ${mib(after[9].pooledBytes)} / ${mib(last.pooledBytes)}`);
    tally.figure('peak live GPU memory during the session', mib(last.peakBytes), true);
    tally.figure('live GPU memory after dispose', `${mib(disposed.liveBytes)}, ${disposed.liveBuffers} buffers (pool trimmed: ${mib(trimmed.pooledBytes)})`, true);
    tally.figure('process RSS after call 1 / 10 / 100', `${(rss[0] / 2 ** 20).toFixed(0)} / ${(rss[9] / 2 ** 20).toFixed(0)} / ${(rss[RUNS - 1] / 2 ** 20).toFixed(0)} MiB`);
    tally.figure('mean time per generation', `${perRun.toFixed(0)} ms`);
    expect(tally.failures()).toEqual([]);
  });
});
