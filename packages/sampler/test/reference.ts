// Float64 CPU references of the samplers, written from the papers independently of src/, with a
// synthetic analytic denoiser that the GPU side evaluates with core ops.

import { addScalar, mulScalar, tanh, type Tensor } from '@unicontrol/core';

/** Stable Diffusion's ᾱ: β linear in √β from 0.00085 to 0.012 over 1000 steps. */
export function refAlphas(): number[] {
  const a = Math.sqrt(0.00085);
  const b = Math.sqrt(0.012);
  const out: number[] = [];
  let p = 1;
  for (let t = 0; t < 1000; t++) out.push((p *= 1 - (a + ((b - a) * t) / 999) ** 2));
  return out;
}

/** The uniform grid for S dividing 1000, descending: 1000 − 1000/S + 1, …, 1. */
export function refGrid(S: number): number[] {
  const c = 1000 / S;
  return Array.from({ length: S }, (_, i) => (S - 1 - i) * c + 1);
}

const scale = (t: number): number => 0.6 + 0.4 * (t / 1000);
const shift = (t: number): number => 0.05 * Math.cos(t / 150);

/** The synthetic model ε(x, t) = tanh(x)·c(t) + d(t) on the CPU. */
export function epsCpu(x: Float64Array, t: number): Float64Array {
  return x.map((v) => Math.tanh(v) * scale(t) + shift(t));
}

/** The same model on the GPU. */
export function epsGpu(x: Tensor, t: number): Tensor {
  return addScalar(mulScalar(tanh(x), scale(t)), shift(t));
}

/** One recorded step: latents after it and its x̂₀. */
export interface RefStep {
  x: Float64Array;
  x0: Float64Array;
}

const lin = (a: number, x: Float64Array, b: number, y: Float64Array): Float64Array => x.map((v, i) => a * v + b * y[i]);

/** Which ᾱ each step of the grid leaves from and goes to (the last goes to ᾱ₀ = alphas[0]). */
function levels(alphas: number[], grid: number[], i: number): { a: number; ap: number } {
  return { a: alphas[grid[i]], ap: i + 1 < grid.length ? alphas[grid[i + 1]] : alphas[0] };
}

/** DDIM (Song et al. 2021, Eq. 12 with σ from Eq. 16) from grid index `start`; `noise[k]` for the k-th step taken. */
export function ddimRef(xT: Float32Array, S: number, eta: number, noise: Float32Array[], start = 0): RefStep[] {
  const alphas = refAlphas();
  const grid = refGrid(S);
  let x: Float64Array = Float64Array.from(xT);
  const out: RefStep[] = [];
  for (let i = start; i < S; i++) {
    const { a, ap } = levels(alphas, grid, i);
    const eps = epsCpu(x, grid[i]);
    const x0 = lin(1 / Math.sqrt(a), x, -Math.sqrt(1 - a) / Math.sqrt(a), eps);
    const sigma = eta * Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
    x = lin(Math.sqrt(ap), x0, Math.sqrt(1 - ap - sigma * sigma), eps);
    if (sigma > 0) x = lin(1, x, sigma, Float64Array.from(noise[i - start]));
    out.push({ x, x0 });
  }
  return out;
}

/**
 * DDPM ancestral sampling over the grid in the posterior-mean form (Ho et al. 2020, Eq. 7, with
 * the grid's skipped steps: α = ᾱ/ᾱ_prev): x_prev = μ̃(x_t, x̂₀) + σ̃·z.
 */
export function ddpmRef(xT: Float32Array, S: number, noise: Float32Array[]): RefStep[] {
  const alphas = refAlphas();
  const grid = refGrid(S);
  let x: Float64Array = Float64Array.from(xT);
  const out: RefStep[] = [];
  for (let i = 0; i < S; i++) {
    const { a, ap } = levels(alphas, grid, i);
    const eps = epsCpu(x, grid[i]);
    const x0 = lin(1 / Math.sqrt(a), x, -Math.sqrt(1 - a) / Math.sqrt(a), eps);
    const beta = 1 - a / ap;
    const mean = lin((Math.sqrt(ap) * beta) / (1 - a), x0, (Math.sqrt(1 - beta) * (1 - ap)) / (1 - a), x);
    x = lin(1, mean, Math.sqrt(((1 - ap) / (1 - a)) * beta), Float64Array.from(noise[i]));
    out.push({ x, x0 });
  }
  return out;
}

/**
 * DPM-Solver++(2M) in k-diffusion's variance-exploding variables (x_ve = x/α, σ_ve = σ/α,
 * t = −log σ_ve), converted back to VP latents per step; first order on the first step and, when
 * the run has fewer than 15 steps, on the last.
 */
export function dpmRef(xT: Float32Array, S: number, start = 0): RefStep[] {
  const alphas = refAlphas();
  const grid = refGrid(S);
  const sigmaVe = (abar: number): number => Math.sqrt((1 - abar) / abar);
  const run = S - start;
  let xve: Float64Array = Float64Array.from(xT, (v) => v / Math.sqrt(alphas[grid[start]]));
  let old: { den: Float64Array; t: number } | null = null;
  const out: RefStep[] = [];
  for (let i = start; i < S; i++) {
    const { a, ap } = levels(alphas, grid, i);
    const [s, sn] = [sigmaVe(a), sigmaVe(ap)];
    const eps = epsCpu(xve.map((v) => v * Math.sqrt(a)), grid[i]);
    const den = lin(1, xve, -s, eps);
    const [t, tn] = [-Math.log(s), -Math.log(sn)];
    const h = tn - t;
    let d = den;
    if (old && !(i === S - 1 && run < 15)) {
      const r = (t - old.t) / h;
      d = lin(1 + 1 / (2 * r), den, -1 / (2 * r), old.den);
    }
    xve = lin(sn / s, xve, -Math.expm1(-h), d);
    old = { den, t };
    out.push({ x: xve.map((v) => v * Math.sqrt(ap)), x0: den });
  }
  return out;
}
