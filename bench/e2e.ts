// End-to-end benchmark on a full-size UniControl checkpoint (by default the synthetic one that
// `npm run weights:synthetic` writes): load, text encode, one guided ControlNet + UNet step,
// VAE decode. Reports wall time per case (first run includes pipeline compilation), process RSS
// and GPU bytes at peak.
//
//   npm run bench:e2e [-- --weights FILE] [--dtype f32|f16] [--runs N] [--cases a,b] [--json FILE]

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDevice, tensor, type Device, type Tensor } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';

const { values: args } = parseArgs({
  options: {
    weights: { type: 'string', default: 'weights/synthetic-unicontrol-v1.1.safetensors' },
    dtype: { type: 'string', default: 'f32' },
    runs: { type: 'string', default: '2' },
    cases: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

interface Case {
  name: string;
  /** Records the case's GPU work once and returns a small tensor to read back (forces completion). */
  run(model: UniControlModel, device: Device): Tensor;
}

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

const CASES: Case[] = [
  { name: 'text_encode', run: (m, d) => m.encodeText(ids(d, 2)) },
  {
    name: 'step_b2_latent32',
    run: (m, d) => {
      const context = m.encodeText(ids(d, 2));
      const taskFeature = m.taskFeature(ids(d, 1));
      const x = tensor(d, values(2 * 4 * 32 * 32), [2, 4, 32, 32]);
      const hint = tensor(d, values(2 * 3 * 256 * 256, 0, 1, 2), [2, 3, 256, 256]);
      return m.applyModel(x, tensor(d, [501, 501], [2]), context, { hint, task: 'control_canny', taskFeature });
    },
  },
  { name: 'vae_decode_256', run: (m, d) => m.decode(tensor(d, values(4 * 32 * 32), [1, 4, 32, 32])) },
];

/** Peak resident set of this process so far (Linux VmHWM), bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

async function main(): Promise<void> {
  if (args.help) {
    console.log('npm run bench:e2e -- [--weights FILE] [--dtype f32|f16] [--runs N] [--cases a,b] [--json FILE]');
    return;
  }
  const dtype = args.dtype === 'f16' ? 'f16' : 'f32';
  const runs = Math.max(1, Number(args.runs));
  const wanted = args.cases?.split(',');
  const device = await createDevice();
  console.error(`adapter: ${device.adapter.description || device.adapter.name} (${device.adapter.backend})`);
  let t0 = performance.now();
  const model = await UniControlModel.load(device, args.weights, { dtype });
  const loadSeconds = (performance.now() - t0) / 1000;
  const weightBytes = model.weights.bytes;
  console.error(`loaded ${args.weights} as ${dtype} in ${loadSeconds.toFixed(1)} s: ${gib(weightBytes)} on the GPU, peak RSS ${gib(peakRss())}`);
  const results = [];
  for (const c of CASES.filter((c) => !wanted || wanted.includes(c.name))) {
    const seconds: number[] = [];
    device.pool.resetPeak();
    for (let r = 0; r < runs; r++) {
      t0 = performance.now();
      const out = device.scope(() => c.run(model, device));
      await out.read();
      out.dispose();
      seconds.push((performance.now() - t0) / 1000);
    }
    const result = { name: c.name, dtype, seconds, peak_gpu_bytes: device.memory().peakBytes, peak_rss_bytes: peakRss() };
    console.error(`${c.name}: ${seconds.map((s) => `${s.toFixed(2)} s`).join(', ')}; GPU peak ${gib(result.peak_gpu_bytes)}, RSS peak ${gib(result.peak_rss_bytes)}`);
    results.push(result);
  }
  const report = { adapter: device.adapter, weights: args.weights, load_seconds: loadSeconds, weight_bytes: weightBytes, cases: results };
  if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  model.dispose();
  device.destroy();
}

await main();
