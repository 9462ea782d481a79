import { createDevice, tensor, type Device, type Tensor } from '@unicontrol/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  classifierFreeGuidance,
  ddimSchedule,
  defaultAlphasCumprod,
  NoiseGenerator,
  noiseTensor,
  noiseToTimestep,
  sample,
  sampleDdim,
  samplingPlan,
  type SampleOptions,
  type SamplerName,
} from '../src/index.ts';
import { epsGpu, refAlphas, refGrid } from './reference.ts';

const SHAPE = [1, 4, 6, 6];

let devicePromise: Promise<Device> | undefined;
const testDevice = (): Promise<Device> => (devicePromise ??= createDevice());
afterAll(async () => (await devicePromise)?.destroy());

async function latents(device: Device, seed: number): Promise<Tensor> {
  return noiseTensor(device, SHAPE, new NoiseGenerator(seed));
}

describe('sample()', () => {
  it('DDIM via sample() equals sampleDdim bit for bit (eta 0 and 0.4)', async () => {
    const device = await testDevice();
    const xT = await latents(device, 11);
    for (const eta of [0, 0.4]) {
      const a = await sample(epsGpu, xT, { sampler: 'ddim', steps: 8, eta, noise: new NoiseGenerator(5) });
      const gen = new NoiseGenerator(5);
      const b = sampleDdim(epsGpu, xT, { steps: 8, eta, alphasCumprod: defaultAlphasCumprod(), noise: (s) => noiseTensor(device, s, gen) });
      expect(await b.read()).toEqual(await a.read());
      a.dispose();
      b.dispose();
    }
    xT.dispose();
  });

  it('reports steps 0…S−1 with their timesteps, x and x̂₀ of the latents shape', async () => {
    const device = await testDevice();
    const xT = await latents(device, 12);
    const seen: { step: number; total: number; timestep: number; shapes: number[][] }[] = [];
    const out = await sample(epsGpu, xT, {
      sampler: 'dpmpp2m',
      steps: 20,
      onStep: ({ step, total, timestep, x, predX0 }) => void seen.push({ step, total, timestep, shapes: [[...x.shape], [...predX0.shape]] }),
    });
    expect(seen.map((s) => s.step)).toEqual([...Array(20).keys()]);
    expect(seen.every((s) => s.total === 20)).toBe(true);
    expect(seen.map((s) => s.timestep)).toEqual(refGrid(20));
    expect(seen.every((s) => s.shapes.every((sh) => sh.join() === SHAPE.join()))).toBe(true);
    out.dispose();
    xT.dispose();
  });

  it('on abort rejects with the reason within one step and frees every intermediate', async () => {
    const device = await testDevice();
    const xT = await latents(device, 13);
    for (const sampler of ['ddim', 'ddpm', 'dpmpp2m'] as SamplerName[]) {
      await device.sync();
      const before = device.memory().liveBytes;
      const controller = new AbortController();
      const reason = new Error(`stop ${sampler}`);
      let calls = 0;
      const run = sample(
        (x, t) => {
          calls++;
          return epsGpu(x, t);
        },
        xT,
        { sampler, steps: 10, noise: new NoiseGenerator(1), signal: controller.signal, onStep: ({ step }) => void (step === 2 && controller.abort(reason)) },
      );
      await expect(run).rejects.toBe(reason);
      expect(calls, sampler).toBe(3);
      expect(device.memory().liveBytes, sampler).toBe(before);
    }
    // Already aborted: nothing runs.
    let calls = 0;
    const aborted = AbortSignal.abort(new Error('never started'));
    await expect(sample(() => (calls++, xT), xT, { steps: 5, signal: aborted })).rejects.toThrow('never started');
    expect(calls).toBe(0);
    xT.dispose();
  });

  it('frees intermediates when the model throws, and leaves memory flat over repeated runs', async () => {
    const device = await testDevice();
    const xT = await latents(device, 14);
    await device.sync();
    const before = device.memory().liveBytes;
    const failing = sample((x, t) => (t < 500 ? (() => { throw new Error('model failed'); })() : epsGpu(x, t)), xT, { sampler: 'dpmpp2m', steps: 10 });
    await expect(failing).rejects.toThrow('model failed');
    expect(device.memory().liveBytes).toBe(before);
    for (let run = 0; run < 3; run++) {
      const out = await sample(epsGpu, xT, { sampler: 'ddpm', steps: 6, noise: new NoiseGenerator(run) });
      // Only `out` is still held.
      const held = device.memory().liveBytes - before;
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(Math.max(256, xT.bytes * 1.25));
      out.dispose();
      expect(device.memory().liveBytes).toBe(before);
    }
    xT.dispose();
  });

  it('same seed twice gives identical latents, bit for bit; another seed differs', async () => {
    const device = await testDevice();
    const run = async (seed: bigint, sampler: SamplerName): Promise<Float32Array> => {
      const gen = new NoiseGenerator(seed);
      const xT = noiseTensor(device, SHAPE, gen);
      const out = await sample(epsGpu, xT, { sampler, steps: 10, eta: 1, noise: gen });
      const data = (await out.read()) as Float32Array;
      out.dispose();
      xT.dispose();
      return data;
    };
    for (const sampler of ['ddim', 'ddpm', 'dpmpp2m'] as SamplerName[]) {
      const a = await run(2n ** 64n - 3n, sampler);
      expect(await run(2n ** 64n - 3n, sampler)).toEqual(a);
      const b = await run(77n, sampler);
      expect(b.some((v, i) => v !== a[i])).toBe(true);
    }
  });

  it('checks its options up front with errors naming the option and value', async () => {
    const device = await testDevice();
    const xT = await latents(device, 15);
    let calls = 0;
    const model = (x: Tensor, t: number): Tensor => (calls++, epsGpu(x, t));
    const cases: [Partial<SampleOptions>, RegExp][] = [
      [{ steps: 0 }, /steps must be an integer from 1 to 1000, got 0/],
      [{ steps: 2.5 }, /steps .* got 2\.5/],
      [{ steps: 1001 }, /steps .* got 1001/],
      [{ steps: 10, eta: -0.1 }, /eta must be a finite number ≥ 0, got -0\.1/],
      [{ steps: 10, eta: NaN }, /eta .* got NaN/],
      [{ steps: 10, eta: Infinity }, /eta .* got Infinity/],
      [{ steps: 10, eta: 3, noise: new NoiseGenerator(1) }, /eta 3 is too large/],
      [{ steps: 10, strength: 0 }, /strength must be in \(0, 1\], got 0/],
      [{ steps: 10, strength: 1.5 }, /strength .* got 1\.5/],
      [{ steps: 10, startStep: 10 }, /startStep must be an integer from 0 to 9, got 10/],
      [{ steps: 10, strength: 0.5, startStep: 2 }, /strength or startStep, not both/],
      [{ steps: 10, sampler: 'euler_a' as SamplerName }, /sampler must be one of ddim, ddpm, dpmpp2m, got "euler_a"/],
      [{ steps: 10, alphasCumprod: [0.9, 1, 0.5] }, /alphasCumprod\[1\] must be in \(0, 1\), got 1/],
    ];
    for (const [options, message] of cases) {
      await expect(sample(model, xT, options as SampleOptions), message.source).rejects.toThrow(RangeError);
      await expect(sample(model, xT, options as SampleOptions)).rejects.toThrow(message);
    }
    await expect(sample(model, xT, { sampler: 'ddpm', steps: 10 })).rejects.toThrow(/'ddpm' adds noise every step; pass options.noise/);
    expect(calls).toBe(0);
    xT.dispose();
  });
});

describe('schedule, img2img and guidance helpers', () => {
  it('uses the uniform grid arange(0, 1000, 1000 // S) + 1 and the SD schedule by default', () => {
    expect(samplingPlan({ steps: 4 }).schedule.timesteps).toEqual([751, 501, 251, 1]);
    const want = refAlphas();
    const got = defaultAlphasCumprod();
    expect(got.length).toBe(1000);
    for (let t = 0; t < 1000; t++) expect(Math.abs(got[t] - want[t])).toBeLessThan(1e-15);
    // The official sampler keeps every grid point when 1000 // S leaves more than S.
    expect(ddimSchedule(got, 3).timesteps).toEqual([1000, 667, 334, 1]);
    const plan = samplingPlan({ steps: 20, strength: 0.3 });
    expect(plan.startStep).toBe(14);
    expect(plan.schedule.timesteps).toEqual(refGrid(20).slice(14));
    expect(samplingPlan({ steps: 10, strength: 0.01 }).schedule.timesteps).toEqual([1]);
  });

  it('noiseToTimestep is √ᾱ·x₀ + √(1−ᾱ)·ε', async () => {
    const device = await testDevice();
    const gen = new NoiseGenerator(3);
    const [x0, eps] = [gen.normal(144), gen.normal(144)];
    const a = samplingPlan({ steps: 20, strength: 0.6 }).schedule.alphas[0];
    const got = noiseToTimestep(tensor(device, x0, SHAPE), tensor(device, eps, SHAPE), a);
    const data = await got.read();
    data.forEach((v, i) => expect(Math.abs(v - (Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * eps[i]))).toBeLessThan(1e-6));
    expect(() => noiseToTimestep(got, got, 0)).toThrow(/alphaCumprod must be in \(0, 1\], got 0/);
  });

  it('classifier-free guidance splits one [uncond; cond] batch', async () => {
    const device = await testDevice();
    const u = [1, 2, 3, 4];
    const c = [2, 0, 3, 8];
    const { eps } = classifierFreeGuidance(tensor(device, [...u, ...c], [2, 1, 2, 2]), 7.5);
    expect([...(await eps.read())]).toEqual(u.map((v, i) => v + 7.5 * (c[i] - v)));
    expect(eps.shape).toEqual([1, 1, 2, 2]);
  });
});
