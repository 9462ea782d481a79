// Kernel benchmark: our ops against TensorFlow.js's WebGPU backend at Stable Diffusion 1.5
// shapes, on the same adapter in the same run, plus the adapter's FMA peak. See bench/RESULTS.md.
//
//   npm run bench:kernels [-- --op NAME[,NAME]] [--variant V|all] [--no-tfjs] [--runs N]
//                            [--dtype f32|f16] [--target-ms MS] [--no-probe] [--json FILE]

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { create, globals } from 'webgpu';
import { BYTES, VARIANTS, createDevice, type Device } from '@unicontrol/core';
import { allCases, type BenchCase, type Prepared } from './cases.ts';
import { fmaPeak, probeOutput, probeWorkload, type ProbeResult } from './fma-probe.ts';
import { laneGroupsFlag } from './lane-groups.ts';
import { oursWorkload } from './ours.ts';
import { formatTable, type Row } from './report.ts';
import { startTfjs, tfjsWorkload, type TfjsSession } from './tfjs.ts';
import { QUIET_FRACTION, measure, measurePaired, median, type Timing, type TimingOptions, type Workload } from './timing.ts';

const { values: args } = parseArgs({
  options: {
    op: { type: 'string' },
    variant: { type: 'string' },
    dtype: { type: 'string', default: 'f32' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-probe': { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    'target-ms': { type: 'string', default: '300' },
    'lane-groups': { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`npm run bench:kernels -- [options]
  --op NAME[,NAME]   only these ops' cases (${[...new Set(allCases().map((c) => c.op))].join(', ')})
  --variant V|all    kernel variant for ops that have variants; 'all' times each side by side
  --dtype f32|f16    storage dtype of our tensors (tfjs is always float32; default f32)
  --no-tfjs          skip TensorFlow.js
  --no-probe         skip the FMA peak probe (and the probe samples taken beside each compute-bound case)
  --runs N           timed samples per case after warm-up (median reported; default 5)
  --target-ms MS     wanted duration of one sample, sets repetitions per sample (default 300)
  --lane-groups N    tiles of 8 invocations per matmul/conv2d workgroup: 1, 2 or 4 (default: the adapter's)
  --json FILE        also write the results as JSON`);
  process.exit(0);
}

if (args.dtype !== 'f32' && args.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, not ${args.dtype}`);
const dtype: 'f32' | 'f16' = args.dtype;

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!(n >= 1)) throw new Error(`--${flag} must be a number ≥ 1, not ${value}`);
  return n;
}

const timing: TimingOptions = {
  runs: Math.round(positive('runs', args.runs)),
  targetMs: positive('target-ms', args['target-ms']),
  maxReps: 1000,
};

/**
 * The variants to time for `op`, per `--variant`; undefined = the op's own default (which may
 * depend on the device, e.g. a subgroup kernel with a fallback).
 */
function variantsOf(op: string): (string | undefined)[] {
  const known = VARIANTS[op];
  if (!known || args.variant === undefined) return [undefined];
  return args.variant === 'all' ? [...known] : [args.variant];
}

/** One side of a case: its timing (`measure`'s median, repetitions and samples), or why it failed. */
interface Side extends Partial<Timing> {
  output?: Float32Array;
  error?: string;
  /** The FMA probe's GFLOP/s in the sample beside each of ours (see `Probe`). */
  probeGflops?: number[];
}

/** The FMA probe's best configuration as a workload, timed beside each sample of a compute-bound case. */
interface Probe {
  work: Workload;
  flops: number;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/**
 * Runs our side: one checked run (warm-up and cross-check output), then the timed samples; for a
 * compute-bound case with a probe, each sample alternates with one of the probe.
 */
async function timeOurs(c: BenchCase, dev: Device, variant: string | undefined, probe: Probe | undefined): Promise<Side> {
  let prepared: Prepared | undefined;
  try {
    prepared = c.ours(dev, { variant, dtype });
    const output = await prepared.output();
    const work = oursWorkload(dev, prepared.run);
    if (!probe || !c.flops) return { ...(await measure(work, timing)), output };
    const t = await measurePaired(work, probe.work, timing);
    return { ...t.work, output, probeGflops: t.other.samples.map((ms) => probe.flops / ms / 1e6) };
  } catch (e) {
    return { error: firstLine(e) };
  } finally {
    prepared?.dispose();
  }
}

/**
 * Runs tfjs's side the same way. Dawn reports WebGPU errors (a binding over the size limit, out
 * of memory) asynchronously instead of throwing, so the checked run is inside error scopes.
 */
async function timeTfjs(c: BenchCase, session: TfjsSession): Promise<Side> {
  let prepared: Prepared | undefined;
  try {
    prepared = c.tfjs(session.tf);
    session.takeErrors();
    session.device.pushErrorScope('validation');
    session.device.pushErrorScope('out-of-memory');
    let output: Float32Array | undefined;
    let thrown: unknown;
    try {
      output = await prepared.output();
    } catch (e) {
      thrown = e;
    }
    const oom = await session.device.popErrorScope();
    const invalid = await session.device.popErrorScope();
    if (oom) return { error: `out of memory: ${firstLine(oom.message)}` };
    if (invalid) return { error: `WebGPU validation error: ${firstLine(invalid.message)}` };
    if (thrown !== undefined) throw thrown;
    const t = await measure(tfjsWorkload(session, prepared.run), timing);
    const late = session.takeErrors();
    if (late.length) return { error: `WebGPU error while timing: ${late[0]}` };
    return { ...t, output };
  } catch (e) {
    return { error: firstLine(e) };
  } finally {
    prepared?.dispose();
  }
}

/** max |ours − theirs| / max |theirs|. */
function relDiff(ours: Float32Array, theirs: Float32Array): number {
  if (ours.length !== theirs.length) return Infinity;
  let err = 0;
  let ref = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
    ref = Math.max(ref, Math.abs(theirs[i]));
  }
  return ref === 0 ? err : err / ref;
}

function progressLine(r: Row): string {
  const ms = (v: number | undefined, e: string | undefined) => (v !== undefined ? `${v.toFixed(3)} ms` : `failed (${e})`);
  return `${r.op}${r.variant ? `[${r.variant}]` : ''} ${r.shape}: ours ${ms(r.oursMs, r.oursError)}` +
    (args['no-tfjs'] ? '' : `, tfjs ${ms(r.tfjsMs, r.tfjsError)}`);
}

async function main(): Promise<void> {
  // One Dawn instance for both libraries. Keep this reference for the whole run: if the GPU
  // object is garbage-collected while devices live, Dawn crashes (mutex errors).
  Object.assign(globalThis, globals);
  const dawnFlags = [
    process.env.UNICONTROL_BACKEND && `backend=${process.env.UNICONTROL_BACKEND}`,
    process.env.UNICONTROL_ADAPTER && `adapter=${process.env.UNICONTROL_ADAPTER}`,
  ].filter((f): f is string => !!f);
  const gpu: GPU = create(dawnFlags);
  const device = await createDevice({ gpu, laneGroups: laneGroupsFlag(args['lane-groups']) });
  if (dtype === 'f16' && !device.hasF16) {
    console.error(`bench:kernels: --dtype f16 needs 'shader-f16', which adapter '${device.adapter.name}' lacks`);
    process.exitCode = 2;
    device.destroy();
    return;
  }
  const tfjs = args['no-tfjs'] ? null : await startTfjs(gpu);

  const wantedOps = args.op?.split(',').map((s) => s.trim());
  const cases = allCases().filter((c) => !wantedOps || wantedOps.includes(c.op));
  if (cases.length === 0) throw new Error(`no cases for --op ${args.op}`);

  console.log(`adapter: ${device.adapter.name}; ours in ${dtype}, ${device.laneGroups} tile(s) of 8 lanes per workgroup; median of ${timing.runs} samples of ~${timing.targetMs} ms`);

  let probe: ProbeResult[] = [];
  let beside: Probe | undefined;
  const probeOut = args['no-probe'] ? undefined : probeOutput(device);
  if (probeOut) {
    probe = await fmaPeak(device, timing, probeOut);
    const best = probe[0];
    console.log(`FMA peak: ${best.gflops.toFixed(1)} GFLOP/s (workgroup ${best.workgroup}, ${best.chains} vec4 chains; ` +
      `others: ${probe.slice(1).map((p) => `${p.workgroup}/${p.chains}: ${p.gflops.toFixed(1)}`).join(', ')})`);
    beside = probeWorkload(device, best, probeOut);
  }
  const peak = probe[0]?.gflops;

  const rows: Row[] = [];
  for (const c of cases) {
    const theirs = tfjs ? await timeTfjs(c, tfjs) : undefined;
    for (const variant of variantsOf(c.op)) {
      const ours = await timeOurs(c, device, variant, beside);
      const row: Row = {
        op: c.op,
        variant,
        shape: c.shape,
        oursMs: ours.ms,
        tfjsMs: theirs?.ms,
        oursError: ours.error,
        tfjsError: theirs?.error,
        reps: ours.reps,
        oursSamples: ours.samples,
        tfjsSamples: theirs?.samples,
        relDiff: ours.output && theirs?.output ? relDiff(ours.output, theirs.output) : undefined,
      };
      if (ours.ms !== undefined && c.flops) row.gflops = c.flops / ours.ms / 1e6;
      if (ours.ms !== undefined && c.moved) row.gbps = (c.moved * BYTES[dtype]) / ours.ms / 1e6;
      if (row.gflops !== undefined && peak) row.peakFraction = row.gflops / peak;
      if (ours.samples && ours.probeGflops && c.flops) {
        const flops = c.flops;
        const ratios = ours.samples.map((ms, i) => flops / ms / 1e6 / ours.probeGflops![i]);
        row.pairedPeakFraction = median(ratios);
        row.pairedRange = [Math.min(...ratios), Math.max(...ratios)];
        row.probeGflops = ours.probeGflops;
      }
      rows.push(row);
      console.log(progressLine(row));
    }
  }

  console.log();
  console.log(formatTable(rows, !!tfjs));
  if (peak) console.log(`\nFMA peak of the adapter: ${peak.toFixed(1)} GFLOP/s`);

  if (args.json) {
    const report = {
      adapter: device.adapter.name,
      lane_groups: device.laneGroups,
      date: new Date().toISOString(),
      dtype,
      fma_peak_gflops: peak ?? null,
      fma_probe: probe,
      timing: { ...timing, quiet_fraction: QUIET_FRACTION },
      ops: rows.map((r) => ({
        op: r.op,
        variant: r.variant ?? null,
        shape: r.shape,
        ours_ms: r.oursMs ?? null,
        tfjs_ms: r.tfjsMs ?? null,
        gflops: r.gflops ?? null,
        gbps: r.gbps ?? null,
        peak_fraction: r.peakFraction ?? null,
        // Against the probe sample taken beside each of ours: the median of the per-pair ratios.
        peak_fraction_paired: r.pairedPeakFraction ?? null,
        peak_fraction_paired_range: r.pairedRange ?? null,
        probe_samples_gflops: r.probeGflops ?? null,
        rel_diff: r.relDiff ?? null,
        reps: r.reps ?? null,
        // The spread of one run: on a shared machine a case's samples can differ by tens of percent.
        ours_samples_ms: r.oursSamples ?? null,
        tfjs_samples_ms: r.tfjsSamples ?? null,
        ours_error: r.oursError ?? null,
        tfjs_error: r.tfjsError ?? null,
      })),
    };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }

  probeOut?.dispose();
  device.destroy();
}

await main();
process.exit(0); // tfjs keeps its device (and Dawn's event loop hooks) alive otherwise
