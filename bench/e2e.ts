// End-to-end benchmark on a full-size UniControl checkpoint (by default the synthetic one that
// `npm run weights:synthetic` writes): one guided ControlNet + UNet step (batch 2) at 32x32 and
// 64x64 latents, a text encode, VAE decodes at 256 and 512 px; float32 and float16 storage.
// Per case: its pipelines compiled ahead (timed apart), a first run, settling runs (the quiet wait
// learns the case's GPU time, as it does in a sampling loop's first steps), then timed runs; median
// seconds, GFLOP (direct algorithm, from Device.counters()), achieved GFLOP/s, peak GPU bytes,
// dispatches and newly created bind groups per run.
//
//   npm run bench:e2e [-- --weights FILE] [--dtype f32,f16] [--cases a,b] [--runs N] [--settle N] [--no-probe] [--no-autotune] [--lane-groups 1|2|4] [--json FILE]

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDevice, tensor, type Device, type Tensor, type TuningResult } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { fmaPeak } from './fma-probe.ts';
import { laneGroupsFlag } from './lane-groups.ts';
import { median } from './timing.ts';

const { values: args } = parseArgs({
  options: {
    weights: { type: 'string', default: 'weights/synthetic-unicontrol-v1.1.safetensors' },
    dtype: { type: 'string', default: 'f32' },
    cases: { type: 'string' },
    runs: { type: 'string', default: '1' },
    settle: { type: 'string', default: '2' },
    'no-probe': { type: 'boolean', default: false },
    'no-autotune': { type: 'boolean', default: false },
    'lane-groups': { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** Deterministic pseudo-random values in [lo, hi). */
function values(n: number, lo = -1, hi = 1, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

const ids = (device: Device, batch: number): Tensor =>
  tensor(device, Int32Array.from({ length: batch * 77 }, (_, i) => (i % 77 < 12 ? 320 + ((i * 97) % 40000) : 49407)), [batch, 77], { dtype: 'i32' });

/** `inputs[key]`, made (and kept across runs) on first use. */
function cached(inputs: Map<string, Tensor>, key: string, make: () => Tensor): Tensor {
  let t = inputs.get(key);
  if (!t) inputs.set(key, (t = make().keep()));
  return t;
}

/** A guided step: ControlNet + UNet on the [uncond; cond] batch of 2. */
function step(latent: number) {
  return (m: UniControlModel, d: Device, inputs: Map<string, Tensor>): Tensor =>
    m.applyModel(cached(inputs, `x${latent}`, () => tensor(d, values(2 * 4 * latent * latent), [2, 4, latent, latent])), tensor(d, [501, 501], [2]), inputs.get('context')!, {
      hint: cached(inputs, `hint${latent}`, () => tensor(d, values(2 * 3 * 64 * latent * latent, 0, 1, 2), [2, 3, 8 * latent, 8 * latent])),
      task: 'control_canny',
      taskFeature: inputs.get('taskFeature')!,
    });
}

const decode = (latent: number) => (m: UniControlModel, d: Device): Tensor => m.decode(tensor(d, values(4 * latent * latent), [1, 4, latent, latent]));

const CASES: Record<string, (m: UniControlModel, d: Device, inputs: Map<string, Tensor>) => Tensor> = {
  step_b2_latent32: step(32),
  step_b2_latent64: step(64),
  text_encode: (m, d) => m.encodeText(ids(d, 2)),
  vae_decode_256: decode(32),
  vae_decode_512: decode(64),
};

/** Peak resident set of this process so far (Linux VmHWM), bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

/** A mistake on the command line: reported as one line, without a stack. */
class UsageError extends Error {}

/** `--flag`'s value as a whole number ≥ `min`. */
function count(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} takes a whole number ≥ ${min}, not ${value}`);
  return n;
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Tunes, compiles and times case `name` on `model`; the result row of the JSON report. */
async function timeCase(model: UniControlModel, device: Device, inputs: Map<string, Tensor>, name: string, dtype: 'f32' | 'f16', fma: number, runs: number, settle: number) {
  let t0: number;
  let tuneS = 0;
  let tuned: TuningResult[] = [];
  if (!args['no-autotune']) {
    t0 = performance.now();
    tuned = await device.autotune(() => CASES[name](model, device, inputs));
    tuneS = (performance.now() - t0) / 1000;
    console.error(`${dtype} ${name}: autotune: ${tuned.length} call shapes timed in ${tuneS.toFixed(1)} s`);
    for (const res of tuned) {
      // `>`: cut short after one spinning call (an overestimate), clearly slower than the winner.
      const timing = ([v, ms]: [string, number]) => `${v} ${res.cutShort?.includes(v) ? '>' : ''}${ms.toFixed(1)} ms`;
      console.error(`  ${res.key}: ${Object.entries(res.ms).map(timing).join(', ')} → ${res.chosen}`);
    }
  }
  t0 = performance.now();
  const { compiled } = await device.compileAhead(() => CASES[name](model, device, inputs));
  const compileS = (performance.now() - t0) / 1000;
  console.error(`${dtype} ${name}: compile ahead: ${compiled} pipelines in ${compileS.toFixed(2)} s`);
  // Start each case from an empty pool, so its allocated peak is its own.
  device.pool.trim();
  device.pool.resetPeak();
  const seconds: number[] = [];
  let counted = { dispatches: 0, flops: 0, submits: 0 };
  let bindGroupsCreated = 0;
  for (let r = 0; r <= settle + runs; r++) {
    device.resetCounters();
    t0 = performance.now();
    const out = device.scope(() => CASES[name](model, device, inputs));
    await out.read();
    seconds.push((performance.now() - t0) / 1000);
    out.dispose();
    counted = device.counters();
    bindGroupsCreated = device.caches().bindGroupsCreated;
  }
  const medianS = median(seconds.slice(1 + settle));
  console.error(`${dtype} ${name}: runs ${seconds.map((t) => t.toFixed(2)).join(' ')} s (first, ${settle} settling, ${runs} timed)`);
  const gflop = counted.flops / 1e9;
  const result = {
    name,
    dtype,
    autotune_s: tuneS,
    autotuned: tuned,
    compile_ahead_s: compileS,
    compiled_ahead: compiled,
    first_s: seconds[0],
    settle_s: seconds.slice(1, 1 + settle),
    median_s: medianS,
    gflop,
    gflops: gflop / medianS,
    peak_fraction: gflop / medianS / fma,
    peak_gpu_bytes: device.memory().peakBytes,
    peak_allocated_bytes: device.memory().peakAllocatedBytes,
    peak_rss_bytes: peakRss(),
    dispatches: counted.dispatches,
    submits: counted.submits,
    bind_groups_created: bindGroupsCreated,
  };
  console.error(
    `${dtype} ${name}: first ${result.first_s.toFixed(2)} s, median ${medianS.toFixed(2)} s, ${gflop.toFixed(1)} GFLOP, ${result.gflops.toFixed(1)} GFLOP/s` +
      `${Number.isFinite(fma) ? ` (${(100 * result.peak_fraction).toFixed(0)}% of FMA peak)` : ''}, GPU peak ${gib(result.peak_gpu_bytes)} live, ${gib(result.peak_allocated_bytes)} allocated, ${result.dispatches} dispatches, ${result.submits} submits, ${result.bind_groups_created} new bind groups`,
  );
  return result;
}

async function main(): Promise<void> {
  if (args.help) {
    console.log(`npm run bench:e2e -- [--weights FILE] [--dtype f32,f16] [--cases ${Object.keys(CASES).join(',')}] [--runs N] [--settle N] [--no-probe] [--no-autotune] [--lane-groups 1|2|4] [--json FILE]`);
    return;
  }
  const dtypes = args.dtype.split(',').map((s) => {
    if (s !== 'f32' && s !== 'f16') throw new UsageError(`--dtype takes f32 and/or f16, not ${s}`);
    return s;
  });
  const names = args.cases?.split(',') ?? Object.keys(CASES);
  for (const n of names) if (!CASES[n]) throw new UsageError(`unknown case ${n}; cases: ${Object.keys(CASES).join(', ')}`);
  const runs = count('runs', args.runs, 1);
  const settle = count('settle', args.settle, 0);
  // Checked before the device and the FMA probe: a missing checkpoint should not cost a minute first.
  if (!existsSync(args.weights)) {
    throw new UsageError(`no checkpoint at ${args.weights}: run \`npm run weights:synthetic\` first (a 5.8 GB random-weight checkpoint), or pass --weights FILE`);
  }
  let laneGroups: 1 | 2 | 4 | undefined;
  try {
    laneGroups = laneGroupsFlag(args['lane-groups']);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const device = await createDevice({ laneGroups });
  const adapter = device.adapter.description || device.adapter.name;
  console.error(`adapter: ${adapter} (${device.adapter.backend}), ${device.laneGroups} tile(s) of 8 lanes per matmul/conv2d workgroup`);
  let fma = NaN;
  if (!args['no-probe']) {
    fma = (await fmaPeak(device, { runs: 5, targetMs: 300, maxReps: 1000 }))[0].gflops;
    console.error(`FMA peak: ${fma.toFixed(1)} GFLOP/s`);
  }
  const results = [];
  for (const dtype of dtypes) {
    if (dtype === 'f16' && !device.hasF16) {
      console.error(`f16: skipped, the adapter has no 'shader-f16'`);
      continue;
    }
    let t0 = performance.now();
    const model = await UniControlModel.load(device, args.weights, { dtype });
    console.error(`loaded ${args.weights} as ${dtype} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${gib(model.weights.bytes)} on the GPU, RSS peak ${gib(peakRss())}`);
    const inputs = new Map<string, Tensor>();
    inputs.set('context', device.scope(() => model.encodeText(ids(device, 2))).keep());
    inputs.set('taskFeature', device.scope(() => model.taskFeature(ids(device, 1))).keep());
    for (const name of names) {
      try {
        results.push(await timeCase(model, device, inputs, name, dtype, fma, runs, settle));
      } catch (e) {
        // One case failing (a kernel the driver refuses, say) should not lose the others' results.
        const error = (e as Error).message.split('\n')[0];
        console.error(`${dtype} ${name}: failed: ${error}`);
        results.push({ name, dtype, error });
        process.exitCode = 1;
      }
    }
    for (const t of inputs.values()) t.dispose();
    model.dispose();
  }
  const report = { adapter, fma_peak_gflops: fma, lane_groups: device.laneGroups, weights: args.weights, runs, settle, cases: results };
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  device.destroy();
}

await main().catch((e: unknown) => {
  if (!(e instanceof UsageError)) throw e;
  console.error(`bench:e2e: ${e.message}`);
  process.exitCode = 2;
});
