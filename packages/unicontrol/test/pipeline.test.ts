// The generate pipeline on the oracle's tiny weights (random, so images are noise; what is tested is
// the plumbing): sizes, determinism, guess mode, several conditions, unseen tasks, validation,
// cancellation, queuing, and the CLI.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevice, type Tensor } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { decodePng, encodePng, readTokenizer, UniControlPipeline, type RgbaImage } from '../src/index.ts';

const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const TINY = `${SHARED}fixtures/tiny/`;
const VOCAB = `${SHARED}clip/bpe_simple_vocab_16e6.txt.gz`;
const HAVE_SHARED = existsSync(`${TINY}model.safetensors`) && existsSync(VOCAB);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${SHARED} is missing (CI is set, so these tests fail rather than skip)`);
const BIN = fileURLToPath(new URL('../bin/unicontrol.js', import.meta.url));

/** A photo-like test image: a gradient with a bright square. */
function photo(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const inside = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
      const i = 4 * (y * width + x);
      data.set([inside ? 230 : (x * 255) / width, inside ? 220 : (y * 255) / height, inside ? 40 : 128, 255], i);
    }
  return { width, height, data };
}

describe.skipIf(!HAVE_SHARED)('UniControlPipeline (tiny weights)', () => {
  let pipeline: UniControlPipeline;
  beforeAll(async () => {
    const device = await createDevice();
    const model = await UniControlModel.load(device, `${TINY}model.safetensors`, { settings: { unetHeads: 2, clipHeads: 2 } });
    pipeline = new UniControlPipeline(model, await readTokenizer(VOCAB));
  });
  afterAll(() => {
    pipeline?.dispose();
    pipeline?.device.destroy();
  });

  const base = { prompt: 'a red house', task: 'canny', image: photo(80, 64), steps: 3, seed: 1234, resolution: 64 };

  it('writes an image of the requested size; the same seed gives identical PNG bytes, another seed differs', async () => {
    const a = await pipeline.generate({ ...base, width: 100, height: 70 });
    expect([a.width, a.height]).toEqual([128, 64]);
    const png = a.images[0].png();
    const decoded = decodePng(png);
    expect([decoded.width, decoded.height]).toEqual([128, 64]);
    const b = await pipeline.generate({ ...base, width: 100, height: 70 });
    expect(Buffer.from(b.images[0].png()).equals(Buffer.from(png))).toBe(true);
    const c = await pipeline.generate({ ...base, width: 100, height: 70, seed: 1235 });
    expect(Buffer.from(c.images[0].png()).equals(Buffer.from(png))).toBe(false);
    expect(a.seed).toBe(1234n);
    expect(a.conditions[0].task).toBe('control_canny');
    expect([a.conditions[0].map.width, a.conditions[0].map.height]).toEqual([128, 64]);
  });

  it('tunes and compiles a step and the decode ahead; a repeated call tunes nothing, compiles nothing and creates no bind group', async () => {
    const device = pipeline.device;
    const ahead = vi.spyOn(device, 'compileAhead');
    // Planning slowed on purpose: the delay must count in `timings.plan`, not in sampling.
    const autotune = device.autotune.bind(device);
    const tune = vi.spyOn(device, 'autotune').mockImplementationOnce(async (fn) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return autotune(fn);
    });
    try {
      const { timings } = await pipeline.generate({ ...base, steps: 2 });
      expect(Object.keys(timings)).toEqual(['condition', 'text', 'plan', 'sampling', 'decode']);
      expect(timings.plan).toBeGreaterThanOrEqual(500);
      expect(ahead).toHaveBeenCalled(); // for the step and the decode, and by autotune for each timed shape
      device.resetCounters();
      ahead.mockClear();
      await pipeline.generate({ ...base, steps: 2 });
      expect(ahead).toHaveBeenCalledOnce(); // every shape was tuned by the first call
      const caches = device.caches();
      expect(caches.pipelinesCompiled).toBe(0);
      // The pool hands back the same buffers in the same order, so every bind group is found again.
      expect(caches.bindGroupsCreated).toBe(0);
      expect(caches.bindGroupsReused).toBeGreaterThan(0);
    } finally {
      ahead.mockRestore();
      tune.mockRestore();
    }
  });

  it('reports progress in order with ETA, and latent previews when asked', async () => {
    const seen: { step: number; preview?: { width: number; height: number } }[] = [];
    await pipeline.generate({ ...base, steps: 4, preview: 2, onProgress: (p) => seen.push({ step: p.step, preview: p.preview && { width: p.preview.width, height: p.preview.height } }) });
    expect(seen).toEqual([{ step: 0 }, { step: 1, preview: { width: 8, height: 8 } }, { step: 2 }, { step: 3, preview: { width: 8, height: 8 } }]);
  });

  it("sizes from the condition like the official resize_image: short side = resolution, multiples of 64", async () => {
    const r = await pipeline.generate({ ...base, image: photo(150, 100), resolution: 64, steps: 1 });
    expect([r.width, r.height]).toEqual([128, 64]);
  });

  it('runs every sampler, guess mode, several samples, and several conditions', async () => {
    for (const sampler of ['ddim', 'ddpm', 'dpmpp2m'] as const) {
      const r = await pipeline.generate({ ...base, sampler, width: 64, height: 64, steps: 2, eta: sampler === 'ddim' ? 0.5 : 0 });
      expect(r.images[0].rgba.some((v, i) => i % 4 !== 3 && v !== r.images[0].rgba[0])).toBe(true);
    }
    const guess = await pipeline.generate({ ...base, guessMode: true, samples: 2, width: 64, height: 64 });
    expect(guess.images).toHaveLength(2);
    const seg = photo(64, 64);
    const mixed = await pipeline.generate({
      prompt: 'a room',
      conditions: [
        { task: 'canny', image: photo(64, 64), weight: 2 },
        { task: 'seg', condition: seg, weight: 1 },
      ],
      steps: 2,
      seed: 5,
      resolution: 64,
    });
    expect(mixed.conditions.map((c) => [c.task, c.weight])).toEqual([
      ['control_canny', 2],
      ['control_seg', 1],
    ]);
  });

  it('at guidance 1 runs the model once per step on the conditional batch, and gives the guided pair’s conditional ε', async () => {
    // Every step's model call's batch, and the first one's output (same x_T and timestep in every
    // run); not the rehearsals of the autotune and compile ahead, which dispatch nothing.
    const calls: { batch: number; first?: Tensor }[] = [];
    const spy = vi.spyOn(pipeline.model, 'applyModel').mockImplementation(function (this: UniControlModel, ...args) {
      const out = UniControlModel.prototype.applyModel.apply(this, args);
      if (!pipeline.device.planning) calls.push({ batch: args[0].shape[0], first: calls.length === 0 ? out.keep() : undefined });
      return out;
    });
    const run = async (guidance: number, samples = 1) => {
      calls.length = 0;
      const r = await pipeline.generate({ ...base, width: 64, height: 64, guidance, samples });
      const first = calls[0].first!;
      const eps = (await first.read()) as Float32Array;
      first.dispose();
      return { rgba: r.images[0].rgba, batches: [...new Set(calls.map((c) => c.batch))], eps };
    };
    try {
      const alone = await run(1);
      expect(alone.batches).toEqual([1]);
      expect((await run(1, 2)).batches).toEqual([2]);
      // Just above 1 the [uncond; cond] pair runs; its conditional half is the same prediction.
      const paired = await run(1 + 1e-6);
      expect(paired.batches).toEqual([2]);
      const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
      const cond = paired.eps.subarray(alone.eps.length);
      expect(maxDiff(alone.eps, cond)).toBeLessThanOrEqual(1e-5 * maxDiff(alone.eps, new Float32Array(alone.eps.length)));
      expect(maxDiff(alone.rgba, paired.rgba)).toBeLessThanOrEqual(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('an unseen task reads the condition through adapters weighted by hand or by instruction similarity', async () => {
    const cond = encodePng(photo(64, 64));
    const map = decodePng(cond);
    const byHand = await pipeline.generate({ prompt: 'x', instruction: 'line drawing to image', condition: map, adapterWeights: { hedsketch: 1, canny: 1 }, steps: 1, seed: 3, resolution: 64 });
    const similar = await pipeline.generate({ prompt: 'x', instruction: 'line drawing to image', condition: map, steps: 1, seed: 3, resolution: 64 });
    expect(byHand.images[0].rgba.length).toBe(64 * 64 * 4);
    expect(similar.images[0].rgba.length).toBe(64 * 64 * 4);
  });

  it('runs with float16 storage (float32 latents), guess mode included', async () => {
    const model = await UniControlModel.load(pipeline.device, `${TINY}model.safetensors`, { dtype: 'f16', settings: { unetHeads: 2, clipHeads: 2 } });
    const half = new UniControlPipeline(model, pipeline.tokenizer);
    try {
      for (const guessMode of [false, true]) {
        const r = await half.generate({ ...base, steps: 2, guessMode });
        expect([r.width, r.height]).toEqual([64, 64]);
        expect(r.images[0].rgba.some((v, i) => i % 4 !== 3 && v !== r.images[0].rgba[0])).toBe(true);
      }
    } finally {
      half.dispose();
    }
  });

  it('validates options up front with errors naming them', async () => {
    const bad = (o: object) => pipeline.generate({ ...base, ...o } as Parameters<UniControlPipeline['generate']>[0]);
    await expect(bad({ steps: 0 })).rejects.toThrow('steps must be an integer from 1 to 1000, got 0');
    await expect(bad({ guidance: Number.NaN })).rejects.toThrow('guidance must be a number from 0 to 100, got NaN');
    await expect(bad({ task: 'magic' })).rejects.toThrow(/unknown task "magic": expected one of hed, canny/);
    await expect(bad({ seed: 2 ** 53 + 2 })).rejects.toThrow(/pass larger seeds as a bigint/);
    await expect(bad({ seed: -1 })).rejects.toThrow('seed must be an integer from 0 to 2^64 − 1, got -1');
    await expect(bad({ condition: photo(8, 8) })).rejects.toThrow('give either condition or image, not both');
    await expect(bad({ task: 'depth' })).rejects.toThrow(/has no built-in preprocessor; pass its condition map/);
    await expect(bad({ sampler: 'euler' })).rejects.toThrow('sampler must be one of ddim, ddpm, dpmpp2m, got "euler"');
    const big = await pipeline.generate({ ...base, seed: 2n ** 64n - 1n, steps: 1 });
    expect(big.seed).toBe(2n ** 64n - 1n);
  });

  it('cancels within a step, frees what it held, and the next call works; concurrent calls equal sequential ones', async () => {
    const device = pipeline.device;
    const before = device.memory();
    const abort = new AbortController();
    let steps = 0;
    const run = pipeline.generate({
      ...base,
      steps: 10,
      signal: abort.signal,
      onProgress: () => {
        if (++steps === 2) abort.abort(new Error('stop'));
      },
    });
    await expect(run).rejects.toThrow('stop');
    expect(steps).toBe(2);
    expect(device.memory().liveBytes).toBe(before.liveBytes);
    expect(device.memory().liveBuffers).toBe(before.liveBuffers);

    const sequential = [await pipeline.generate({ ...base, seed: 1 }), await pipeline.generate({ ...base, seed: 2 })];
    const concurrent = await Promise.all([pipeline.generate({ ...base, seed: 1 }), pipeline.generate({ ...base, seed: 2 })]);
    for (let i = 0; i < 2; i++) expect(concurrent[i].images[0].rgba).toEqual(sequential[i].images[0].rgba);
    expect(device.memory().liveBytes).toBe(before.liveBytes);
  });

  it('the CLI writes a PNG of the requested size, identical bytes for the same seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'generate-'));
    writeFileSync(join(dir, 'photo.png'), encodePng(photo(64, 64)));
    // The tuning cache in the test's folder, not the user's.
    const run = (out: string) =>
      spawnSync(
        process.execPath,
        [BIN, 'generate', '--heads', '2', '--clip-heads', '2', '--weights', `${TINY}model.safetensors`, '--vocab', VOCAB, '--task', 'canny', '--image', join(dir, 'photo.png'), '--prompt', 'a cat', '--steps', '2', '--seed', '42', '--width', '128', '--height', '64', '--out', out, '--json'],
        { encoding: 'utf8', env: { ...process.env, UNICONTROL_CACHE: join(dir, 'cache') } },
      );
    const a = run(join(dir, 'a.png'));
    expect(a.status, a.stderr).toBe(0);
    const summary = JSON.parse(a.stdout) as { files: string[]; seed: string; width: number; height: number };
    expect(summary).toMatchObject({ seed: '42', width: 128, height: 64 });
    const png = readFileSync(join(dir, 'a.png'));
    expect([decodePng(png).width, decodePng(png).height]).toEqual([128, 64]);
    expect(run(join(dir, 'b.png')).status).toBe(0);
    expect(readFileSync(join(dir, 'b.png')).equals(png)).toBe(true);
  });
});
