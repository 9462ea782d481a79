import { createDevice, tensor, type Device } from '@unicontrol/core';
import { afterAll, describe, expect, it } from 'vitest';
import { NoiseGenerator, sample, type SampleOptions } from '../src/index.ts';
import { ddimRef, ddpmRef, dpmRef, epsGpu, refGrid, type RefStep } from './reference.ts';

const SHAPE = [2, 4, 5, 7]; // 280 latents, not a multiple of any workgroup size
const N = SHAPE.reduce((a, b) => a * b, 1);
/** Per-step tolerance: max |GPU − CPU| over max |CPU| (float32 GPU against float64 CPU). */
const TOL = 1e-5;

let devicePromise: Promise<Device> | undefined;
const testDevice = (): Promise<Device> => (devicePromise ??= createDevice());
afterAll(async () => (await devicePromise)?.destroy());

function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    err = Math.max(err, Math.abs(got[i] - want[i]));
    ref = Math.max(ref, Math.abs(want[i]));
  }
  return err / ref;
}

/** Runs `sample()` on the GPU, reading x and x̂₀ after every step; noise comes from `noise` in order. */
async function runGpu(xT: Float32Array, noise: Float32Array[], options: Omit<SampleOptions, 'alphasCumprod' | 'noise' | 'onStep'>) {
  const device = await testDevice();
  const x = tensor(device, xT, SHAPE);
  let k = 0;
  const steps: { x: Float32Array; x0: Float32Array; timestep: number }[] = [];
  const out = await sample(epsGpu, x, {
    ...options,
    noise: (shape) => tensor(device, noise[k++], shape),
    onStep: async (s) => {
      steps.push({ x: (await s.x.read()) as Float32Array, x0: (await s.predX0.read()) as Float32Array, timestep: s.timestep });
    },
  });
  const final = (await out.read()) as Float32Array;
  out.dispose();
  x.dispose();
  return { steps, final, noiseUsed: k };
}

/** Checks every step against the reference; returns the worst relative error seen. */
function compare(got: Awaited<ReturnType<typeof runGpu>>, want: RefStep[], label: string): number {
  expect(got.steps.length, label).toBe(want.length);
  let worst = 0;
  want.forEach((w, i) => {
    const ex = relError(got.steps[i].x, w.x);
    const e0 = relError(got.steps[i].x0, w.x0);
    worst = Math.max(worst, ex, e0);
    expect(ex, `${label}: x after step ${i}`).toBeLessThanOrEqual(TOL);
    expect(e0, `${label}: x̂₀ of step ${i}`).toBeLessThanOrEqual(TOL);
  });
  expect(got.final).toEqual(got.steps[got.steps.length - 1].x);
  console.log(`${label}: worst per-step relative error ${worst.toExponential(2)}`);
  return worst;
}

function inputs(seed: number, steps: number): { xT: Float32Array; noise: Float32Array[] } {
  const gen = new NoiseGenerator(seed);
  return { xT: gen.normal(N), noise: Array.from({ length: steps }, () => gen.normal(N)) };
}

describe('each sampler follows its float64 CPU reference step by step', () => {
  it('DDIM, eta = 0 (10 steps)', async () => {
    const { xT, noise } = inputs(1, 10);
    const got = await runGpu(xT, noise, { sampler: 'ddim', steps: 10 });
    compare(got, ddimRef(xT, 10, 0, []), 'ddim η=0');
    expect(got.noiseUsed).toBe(0);
    expect(got.steps.map((s) => s.timestep)).toEqual(refGrid(10));
  });

  it('DDIM, eta = 0.5 (20 steps, one noise draw per step)', async () => {
    const { xT, noise } = inputs(2, 20);
    const got = await runGpu(xT, noise, { sampler: 'ddim', steps: 20, eta: 0.5 });
    compare(got, ddimRef(xT, 20, 0.5, noise), 'ddim η=0.5');
    expect(got.noiseUsed).toBe(20);
  });

  it('DDPM ancestral (10 steps) equals the posterior-mean form', async () => {
    const { xT, noise } = inputs(3, 10);
    const got = await runGpu(xT, noise, { sampler: 'ddpm', steps: 10, eta: 0 /* ignored */ });
    compare(got, ddpmRef(xT, 10, noise), 'ddpm');
    expect(got.noiseUsed).toBe(10);
  });

  it('DPM-Solver++(2M), 10 steps (first-order final step)', async () => {
    const { xT } = inputs(4, 0);
    const got = await runGpu(xT, [], { sampler: 'dpmpp2m', steps: 10 });
    compare(got, dpmRef(xT, 10), 'dpmpp2m 10');
    expect(got.noiseUsed).toBe(0);
  });

  it('DPM-Solver++(2M), 25 steps (second order to the end)', async () => {
    const { xT } = inputs(5, 0);
    compare(await runGpu(xT, [], { sampler: 'dpmpp2m', steps: 25 }), dpmRef(xT, 25), 'dpmpp2m 25');
  });

  it('img2img: strength 0.5 runs the last half of the grid', async () => {
    const { xT, noise } = inputs(6, 10);
    const got = await runGpu(xT, noise, { sampler: 'ddim', steps: 20, eta: 0.3, strength: 0.5 });
    expect(got.steps.map((s) => s.timestep)).toEqual(refGrid(20).slice(10));
    compare(got, ddimRef(xT, 20, 0.3, noise, 10), 'ddim strength 0.5');
  });

  it('img2img: DPM-Solver++ from startStep 4 starts its history afresh', async () => {
    const { xT } = inputs(7, 0);
    compare(await runGpu(xT, [], { sampler: 'dpmpp2m', steps: 20, startStep: 4 }), dpmRef(xT, 20, 4), 'dpmpp2m from step 4');
  });
});
