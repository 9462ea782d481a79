// Where a guided step's time goes: tunes the step's kernel choices for this adapter
// (`Device.autotune`, as `generate()` and bench:e2e do; --no-autotune keeps the heuristics), records
// every kernel launch of one ControlNet + UNet step (batch 2) on the full-size checkpoint, then
// replays each distinct launch alone and times it as the kernel benchmark times an op. Prints the
// time per kernel family (shader and constants), its share, and its achieved GFLOP/s. The step is
// bench:e2e's (the condition's hint path and the text's keys and values included); `--prepared`
// profiles the step as `generate()` runs it, with both computed once before it.
//
//   npx tsx bench/profile.ts [--weights FILE] [--latent 32] [--dtype f32|f16] [--top 25] [--shapes] [--target-ms 150] [--no-autotune] [--prepared]

import { parseArgs } from 'node:util';
import { createDevice, tensor, Tensor, type KernelLaunch } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { oursWorkload } from './ours.ts';
import { measure } from './timing.ts';

const { values: args } = parseArgs({
  options: {
    weights: { type: 'string', default: 'weights/synthetic-unicontrol-v1.1.safetensors' },
    latent: { type: 'string', default: '32' },
    dtype: { type: 'string', default: 'f32' },
    top: { type: 'string', default: '25' },
    shapes: { type: 'boolean', default: false },
    'target-ms': { type: 'string', default: '150' },
    'no-autotune': { type: 'boolean', default: false },
    prepared: { type: 'boolean', default: false },
  },
});

const device = await createDevice();
const dtype = args.dtype === 'f16' ? 'f16' : 'f32';
const model = await UniControlModel.load(device, args.weights, { dtype });
const n = Number(args.latent);
const ids = (batch: number): Tensor => tensor(device, Int32Array.from({ length: batch * 77 }, (_, i) => (i % 77 < 12 ? 320 + i : 49407)), [batch, 77], { dtype: 'i32' });
const context = model.encodeText(ids(2)).keep();
const taskFeature = model.taskFeature(ids(1)).keep();
const x = tensor(device, Float32Array.from({ length: 2 * 4 * n * n }, (_, i) => Math.sin(i)), [2, 4, n, n]);
const hint = tensor(device, Float32Array.from({ length: 2 * 3 * 64 * n * n }, (_, i) => (i % 7) / 7), [2, 3, 8 * n, 8 * n]);
const t = tensor(device, [501, 501], [2]);
const control = { hint, task: 'control_canny', taskFeature } as const;
const prepared = args.prepared ? { control: model.prepareControl(control, 2), text: model.prepareContext(context) } : undefined;
const step = () => (prepared ? model.applyModel(x, t, prepared.text, prepared.control) : model.applyModel(x, t, context, control));
if (!args['no-autotune']) await device.autotune(step);
await device.sync();

// Record: every launch, with its tensors kept alive for the replay (the model frees its
// intermediates as it goes, so disposing is switched off while recording).
const launches: KernelLaunch[] = [];
const run = device.run.bind(device);
const dispose = Tensor.prototype.dispose;
Tensor.prototype.dispose = () => {};
device.run = (launch: KernelLaunch) => {
  for (const tt of [...launch.inputs, ...launch.outputs]) tt.keep();
  launches.push(launch);
  run(launch);
};
step();
device.run = run;
Tensor.prototype.dispose = dispose;
await device.sync();

// Replay each distinct launch (same shader, types, constants, shapes, params and grid) alone,
// timed the way the kernel benchmark times our ops (bench/ours.ts and bench/timing.ts: batched
// repetitions, a quiet wait, the median of 3 samples), and charge that time to each occurrence.
const signature = (l: KernelLaunch): string =>
  JSON.stringify([l.shader, l.types, l.consts, l.workgroups, [...l.inputs, ...l.outputs].map((tt) => tt.shape), [...new Uint8Array(l.params ?? new ArrayBuffer(0))]]);
const timed = new Map<string, number>();
const families = new Map<string, { ms: number; flops: number; count: number }>();
let total = 0;
for (const launch of launches) {
  const sig = signature(launch);
  let ms = timed.get(sig);
  if (ms === undefined) {
    run(launch);
    await device.sync();
    ms = (await measure(oursWorkload(device, () => run(launch)), { runs: 3, targetMs: Number(args['target-ms']), maxReps: 200 })).ms;
    timed.set(sig, ms);
  }
  total += ms;
  const shapes = args.shapes ? ` ${[...launch.inputs, ...launch.outputs].map((tt) => `[${tt.shape.join(',')}]`).join(' ')}` : '';
  const key = `${launch.shader} ${JSON.stringify(launch.consts ?? {})}${shapes}`;
  const f = families.get(key) ?? { ms: 0, flops: 0, count: 0 };
  f.ms += ms;
  f.flops += launch.flops ?? 0;
  f.count++;
  families.set(key, f);
}
console.log(`${launches.length} launches, ${(total / 1000).toFixed(2)} s replayed one by one (${timed.size} distinct launches timed)`);
const rows = [...families].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(args.top));
for (const [key, f] of rows) {
  const gflops = f.flops ? ` ${(f.flops / f.ms / 1e6).toFixed(1)} GFLOP/s` : '';
  console.log(`${((100 * f.ms) / total).toFixed(1).padStart(5)}% ${(f.ms / 1000).toFixed(2).padStart(6)} s ${String(f.count).padStart(4)}x ${key}${gflops}`);
}
device.destroy();
