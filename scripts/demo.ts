// `npm run demo`: the pipeline end to end — tokenize → encode → ControlNet + UNet with guidance →
// VAE → PNG — with per-stage timings. Uses weights/unicontrol_v1.1.st when present; otherwise a
// small random-weight model in the real key layout (its output is noise, but every stage runs).
//
//   npm run demo [-- --prompt TEXT] [--steps N] [--seed N] [--resolution R] [--out DIR]

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDevice } from '@unicontrol/core';
import { expectedKeys, UniControlModel, UNREVEALED_DEFAULTS, type UniControlConfig } from '@unicontrol/model';
import { encodePng, findVocabulary, loadTuning, readTokenizer, saveTuningOrWarn, UniControlPipeline, type RgbaImage } from '@unicontrol/unicontrol';
import { writeSyntheticCheckpoint } from './make-synthetic-checkpoint.ts';

const REAL = 'weights/unicontrol_v1.1.st';
const RANDOM = 'weights/demo-random-small.safetensors';

/** A small model in the real layout: real key names, the real model's heads and eps, small widths. */
const SMALL: UniControlConfig = {
  unet: {
    inChannels: 4,
    outChannels: 4,
    modelChannels: 64,
    channelMult: [1, 2],
    numResBlocks: 1,
    attentionLevels: [true, true],
    timeEmbedDim: 256,
    contextDim: 96,
    transformerDepth: 1,
    numHeads: UNREVEALED_DEFAULTS.unetHeads,
    resnetEps: UNREVEALED_DEFAULTS.resnetEps,
    transformerNormEps: UNREVEALED_DEFAULTS.transformerNormEps,
    layerNormEps: UNREVEALED_DEFAULTS.layerNormEps,
  },
  controlNet: { version: 'v1.1', hintChannels: 3, numTasks: 13, taskFeatureDim: 96 },
  clip: { vocabSize: 49408, hiddenSize: 96, numLayers: 2, numHeads: UNREVEALED_DEFAULTS.clipHeads, intermediateSize: 384, maxPositions: 77, layerNormEps: 1e-5 },
  vae: { inChannels: 3, outChannels: 3, ch: 32, chMult: [1, 2, 2, 2], numResBlocks: 1, zChannels: 4, embedDim: 4, scaleFactor: 0.18215, normEps: 1e-6 },
};

const { values: args } = parseArgs({
  options: {
    prompt: { type: 'string', default: 'a cozy house on a hill under a warm sunset' },
    steps: { type: 'string' },
    seed: { type: 'string', default: '42' },
    resolution: { type: 'string' },
    out: { type: 'string', default: 'demo-output' },
  },
});

/** A simple scene to draw edges from: sky, sun, hill and a house. */
function scene(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [u, v] = [x / width, y / height];
      let rgb = [90 + 120 * v, 140 + 60 * v, 230 - 80 * v];
      if ((u - 0.75) ** 2 + (v - 0.25) ** 2 < 0.01) rgb = [250, 200, 60];
      if (v > 0.65 - 0.15 * Math.sin(Math.PI * u)) rgb = [70, 140, 60];
      if (u > 0.3 && u < 0.55 && v > 0.45 && v < 0.7) rgb = [200, 170, 130];
      if (v > 0.3 && v <= 0.45 && Math.abs(u - 0.425) < (v - 0.3) * 1.2) rgb = [150, 50, 40];
      data.set([...rgb.map(Math.round), 255], 4 * (y * width + x));
    }
  return { width, height, data };
}

const ms = (t: number): string => (t < 1000 ? `${t.toFixed(0)} ms` : `${(t / 1000).toFixed(1)} s`);

async function main(): Promise<number> {
  const vocab = findVocabulary(['weights', '../shared/clip']);
  if (!vocab) {
    process.stderr.write("demo: no CLIP vocabulary in weights/ or ../shared/clip/. Fetch it with: npx unicontrol download --no-weights\n");
    return 1;
  }
  const real = existsSync(REAL);
  let weights = REAL;
  if (!real) {
    weights = RANDOM;
    process.stdout.write(
      `No ${REAL} (fetch it with: npx unicontrol download). Using a small random-weight model in the real key layout:\n` +
        'its output is NOISE from untrained weights; the demo still runs every stage.\n',
    );
    const keys = [...expectedKeys(SMALL)].map(([name, k]) => ({ name, shape: k.shape, dtype: k.kind === 'int' ? 'int64' : 'float32' }));
    if (!existsSync(RANDOM)) await writeSyntheticCheckpoint({ keys, out: RANDOM, seed: 1, source: 'scripts/demo.ts small config' });
  }
  const steps = Number(args.steps ?? (real ? 20 : 10));
  const resolution = Number(args.resolution ?? 256);
  const t0 = performance.now();
  const tokenizer = await readTokenizer(vocab);
  const device = await createDevice();
  process.stdout.write(`adapter: ${device.adapter.description || device.adapter.name}\n`);
  const model = await UniControlModel.load(device, weights);
  const pipeline = new UniControlPipeline(model, tokenizer);
  // The kernel choices `generate` times on first use are kept with the CLI's (`tuningCachePath()`),
  // so a second demo run skips the timing.
  loadTuning(device);
  const loadMs = performance.now() - t0;
  const photo = scene(resolution, resolution);
  let lastElapsed = 0;
  const result = await pipeline.generate({
    prompt: args.prompt,
    task: 'canny',
    image: photo,
    steps,
    seed: BigInt(args.seed),
    resolution,
    onProgress: (p) => {
      process.stdout.write(`  step ${p.step + 1}/${p.total} (t=${p.timestep}) ${ms(p.elapsedMs - lastElapsed)}\n`);
      lastElapsed = p.elapsedMs;
    },
  });
  await mkdir(args.out, { recursive: true });
  await writeFile(join(args.out, 'photo.png'), encodePng(photo));
  await writeFile(join(args.out, 'condition.png'), encodePng(result.conditions[0].map));
  await writeFile(join(args.out, 'image.png'), result.images[0].png());
  saveTuningOrWarn(device);
  const t = result.timings;
  process.stdout.write(
    `\nwrote ${join(args.out, 'image.png')} (${result.width}x${result.height}, seed ${result.seed}) and condition.png, photo.png\n` +
      `timings: load ${ms(loadMs)}, condition ${ms(t.condition)}, text encode ${ms(t.text)}, kernel autotune and compilation ${ms(t.plan)}, sampling ${ms(t.sampling)} (${steps} steps, ${ms(t.sampling / steps)}/step), VAE decode ${ms(t.decode)}\n`,
  );
  pipeline.dispose();
  device.destroy();
  return 0;
}

process.exitCode = await main();
