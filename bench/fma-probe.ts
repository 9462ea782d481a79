// The adapter's arithmetic ceiling, measured with shaders/fma_probe.wgsl: long independent fma
// chains in registers over many workgroups, timed exactly like our ops.

import { Params, empty, grid, type Device, type Tensor } from '@unicontrol/core';
import { oursWorkload } from './ours.ts';
import { measure, sample, type TimingOptions, type Workload } from './timing.ts';

/** One probe configuration: workgroup size and independent vec4 fma chains per invocation. */
export interface ProbeConfig {
  workgroup: number;
  chains: number;
}

/** Configurations tried; the peak is the best of them (lavapipe likes different shapes than GPUs). */
export const PROBE_CONFIGS: readonly ProbeConfig[] = [
  { workgroup: 64, chains: 8 },
  { workgroup: 128, chains: 8 },
  { workgroup: 64, chains: 16 },
];

const INVOCATIONS = 64 * 1024;
const ITERATIONS = 1024;

export interface ProbeResult extends ProbeConfig {
  /** From the median sample. */
  gflops: number;
  /** Every counted sample's rate. */
  samples_gflops: number[];
}

/** The probe in configuration `cfg` as a timed workload writing into `out`, and the FLOPs of one run. */
export function probeWorkload(device: Device, cfg: ProbeConfig, out: Tensor): { work: Workload; flops: number } {
  const flops = INVOCATIONS * ITERATIONS * cfg.chains * 4 * 2;
  const work = oursWorkload(device, () =>
    device.run({
      shader: 'fma_probe',
      consts: { WORKGROUP: cfg.workgroup, CHAINS: cfg.chains },
      inputs: [],
      outputs: [out],
      params: new Params().u32(ITERATIONS, INVOCATIONS).f32(0.999, 1e-3).bytes(),
      workgroups: grid(Math.ceil(INVOCATIONS / cfg.workgroup)),
      cost: flops,
    }),
  );
  return { work, flops };
}

/** The buffer the probe writes (one value per invocation); the caller disposes it. */
export function probeOutput(device: Device): Tensor {
  return empty(device, [INVOCATIONS], 'f32');
}

/**
 * Measures every probe configuration; returns them all, best first. Writes into `out` when given
 * (the caller's `probeOutput`, kept for probe samples taken later), else into its own buffer.
 */
export async function fmaPeak(device: Device, timing: TimingOptions, out?: Tensor): Promise<ProbeResult[]> {
  const target = out ?? probeOutput(device);
  const results: ProbeResult[] = [];
  for (const cfg of PROBE_CONFIGS) {
    const { work, flops } = probeWorkload(device, cfg, target);
    await sample(work, 1, 0); // compiles the pipeline
    const t = await measure(work, timing);
    results.push({ ...cfg, gflops: flops / t.ms / 1e6, samples_gflops: t.samples.map((ms) => flops / ms / 1e6) });
  }
  if (!out) target.dispose();
  return results.sort((a, b) => b.gflops - a.gflops);
}
