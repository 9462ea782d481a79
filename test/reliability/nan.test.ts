// The NaN/Inf guard (packages/unicontrol/src/pipeline/finite.ts): weights that make the numbers
// blow up must end the call with a NonFiniteError naming the step (or the decode), never with a
// black image. The checkpoints are the tiny model with one tensor set to NaN, +Inf or 1e38·w.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource, createDevice, mulScalar, tensor, type Device } from '@unicontrol/core';
import { UniControlModel, type ClipTokenizer } from '@unicontrol/model';
import { encodePng, readTokenizer, UniControlPipeline, type GenerateOptions, type RgbaImage } from '@unicontrol/unicontrol';
import { LatentGuard, NonFiniteError } from '../../packages/unicontrol/src/pipeline/finite.ts';
import { cleanFailure, cli, ensure, environment, HAVE_SHARED, rejection, TINY_MODEL, TINY_SETTINGS, VOCAB } from './helpers.ts';
import { SafetensorsParts } from './hostile.ts';
import { Tally } from './record.ts';

const tally = new Tally(
  'nan-guard',
  'NaN/Inf guard',
  60,
  'a checkpoint whose numbers overflow makes `generate()` reject with `NonFiniteError` naming the first sampling step whose latents hold NaN/Inf (or the VAE decode), with live GPU memory as before the call — never a black image; the CLI exits 1 with that message on one line. The clean model never trips it (every other test generates through it).',
);

/** The tiny checkpoint with tensor `name`'s float32 values replaced by `f(value)`. */
function poisoned(tiny: Uint8Array, name: string, f: (v: number) => number): Uint8Array {
  const parts = new SafetensorsParts(tiny);
  const e = parts.header()[name];
  const out = tiny.slice();
  const start = 8 + parts.headerLength + e.data_offsets[0];
  const values = new Float32Array(out.buffer, start, (e.data_offsets[1] - e.data_offsets[0]) / 4);
  for (let i = 0; i < values.length; i++) values[i] = f(values[i]);
  return out;
}

describe.skipIf(!HAVE_SHARED)('NaN/Inf guard', () => {
  let device: Device;
  let tokenizer: ClipTokenizer;
  let tiny: Uint8Array;
  let dir: string;
  const image: RgbaImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).map((_, i) => (i * 5) & 255) };
  const base: GenerateOptions = { prompt: 'a tree', task: 'canny', image, steps: 4, seed: 5, resolution: 64 }; // DDIM: 4 steps

  beforeAll(async () => {
    device = await createDevice();
    tokenizer = await readTokenizer(VOCAB);
    tiny = new Uint8Array(readFileSync(TINY_MODEL));
    dir = mkdtempSync(join(tmpdir(), 'nan-guard-'));
  });
  afterAll(() => {
    tally.save(environment(device));
    device?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function withModel<T>(bytes: Uint8Array, fn: (p: UniControlPipeline) => Promise<T>): Promise<T> {
    const model = await UniControlModel.load(device, bytesSource(bytes, 'poisoned.safetensors'), { settings: TINY_SETTINGS });
    try {
      return await fn(new UniControlPipeline(model, tokenizer));
    } finally {
      model.dispose();
    }
  }

  /** The call must reject with NonFiniteError whose message matches `where`; memory as before. */
  async function trips(p: UniControlPipeline, o: GenerateOptions, where: RegExp, step: number | undefined): Promise<string> {
    const before = device.memory();
    const err = await rejection(() => p.generate(o));
    ensure(err instanceof NonFiniteError, `${err.name}: ${err.message}`);
    ensure(where.test(err.message), `"${err.message}" does not match ${where}`);
    ensure(err.step === step, `step ${err.step}, expected ${step}`);
    const now = device.memory();
    ensure(now.liveBytes === before.liveBytes && now.liveBuffers === before.liveBuffers, `live ${before.liveBytes} → ${now.liveBytes}`);
    return `NonFiniteError: ${err.message}`;
  }

  it('weights that overflow stop the call at the first bad step, naming it', async () => {
    const G = 'poisoned weights';
    tally.group(G, 'one UNet, ControlNet, hint-adapter, CLIP or VAE tensor set to NaN, +Inf, or multiplied by 1e38');
    const FIRST = /^sampling step 1 of 4 \(timestep \d+\) produced \d+ of 256 latent values that are NaN or infinite/;
    const cases: [string, string, (v: number) => number, RegExp, number | undefined][] = [
      ['UNet output bias NaN', 'model.diffusion_model.out.2.bias', () => Number.NaN, FIRST, 0],
      ['UNet output bias +Inf', 'model.diffusion_model.out.2.bias', () => Infinity, FIRST, 0],
      ['UNet first conv weight × 1e38', 'model.diffusion_model.input_blocks.0.0.weight', (v) => v * 1e38, FIRST, 0],
      ['UNet time embedding bias 1e38', 'model.diffusion_model.time_embed.0.bias', () => 1e38, FIRST, 0],
      ['ControlNet middle zero-conv bias NaN', 'control_model.middle_block_out.0.bias', () => Number.NaN, FIRST, 0],
      ['canny hint adapter bias +Inf', 'control_model.input_hint_block_list_moe.1.0.bias', () => Infinity, FIRST, 0],
      ['CLIP final layer norm bias NaN', 'cond_stage_model.transformer.text_model.final_layer_norm.bias', () => Number.NaN, FIRST, 0],
      ['VAE decoder output bias NaN', 'first_stage_model.decoder.conv_out.bias', () => Number.NaN, /^the VAE decode produced 12288 of 12288 pixel values that are NaN or infinite \(the latents were finite\)/, undefined],
    ];
    for (const [name, key, f, where, step] of cases) {
      await tally.check(G, name, () => withModel(poisoned(tiny, key, f), (p) => trips(p, base, where, step)));
    }
    await tally.check(G, 'a large but finite bias (1e3) does not trip the guard', () =>
      withModel(poisoned(tiny, 'model.diffusion_model.out.2.bias', () => 1e3), async (p) => {
        const r = await p.generate(base);
        return `image ${r.width}x${r.height} (values finite, clipped to 0–255)`;
      }),
    );
    expect(tally.failures(G)).toEqual([]);
  });

  it('a NaN that appears at a later step is caught at that step', async () => {
    const G = 'NaN at a later step';
    tally.group(G, 'the model call returns NaN from step k on (k = 2, 3, 5 of 5) through a wrapped applyModel');
    for (const k of [2, 3, 5]) {
      await tally.check(G, `NaN from step ${k} of 5`, () =>
        withModel(tiny, async (p) => {
          const apply = p.model.applyModel.bind(p.model);
          // The pipeline's planning passes (autotune, compileAhead) call the model without dispatching: not steps.
          const device = p.model.device;
          let calls = 0;
          p.model.applyModel = (...args: Parameters<typeof apply>) => {
            const out = apply(...args);
            if (device.planning) return out;
            return ++calls >= k ? mulScalar(out, Number.NaN) : out;
          };
          return trips(p, { ...base, steps: 5 }, new RegExp(`^sampling step ${k} of 5 \\(timestep \\d+\\) produced 256 of 256 latent values`), k - 1);
        }),
      );
    }
    expect(tally.failures(G)).toEqual([]);
  });

  it('the CLI reports it in one line; the check costs one 4-byte flag read per step', async () => {
    const G = 'CLI and cost';
    tally.group(G, '`unicontrol generate --weights` a NaN checkpoint; the time of the check per step at 512 px');
    const path = join(dir, 'nan.safetensors');
    writeFileSync(path, poisoned(tiny, 'model.diffusion_model.out.2.bias', () => Number.NaN));
    const photo = join(dir, 'photo.png');
    writeFileSync(photo, encodePng(image));
    const run = await cli(['generate', '--weights', path, '--vocab', VOCAB, '--heads', '2', '--clip-heads', '2', '--task', 'canny', '--image', photo, '--prompt', 'x', '--steps', '2', '--resolution', '64', '--out', join(dir, 'o.png')]);
    await tally.check(G, 'generate --weights with a NaN bias', () => {
      const line = cleanFailure(run);
      ensure(/sampling step 1 of 2 \(timestep \d+\) produced \d+ of 256 latent values that are NaN or infinite/.test(line), line);
      return `exit ${run.status}: ${line}`;
    });
    await tally.check(G, 'cost of the check at 512 px (one [1, 4, 64, 64] latent)', async () => {
      const latent = tensor(device, new Float32Array(4 * 64 * 64).fill(0.5), [1, 4, 64, 64]);
      const guard = new LatentGuard(device);
      await guard.check(latent, 0, 1, 0);
      const started = performance.now();
      const checks = 20;
      for (let i = 0; i < checks; i++) await guard.check(latent, i, checks, 0); // throws on a false positive
      const ms = (performance.now() - started) / checks;
      latent.dispose();
      tally.figure('guard: flag kernel + 4-byte flag read per step, 512 px latent', `${ms.toFixed(2)} ms on this adapter`);
      tally.figure('guard: latent data read back per step', 'none (the latents are read only once the flag is set, for the count)');
      return `${ms.toFixed(2)} ms per step`;
    });
    expect(tally.failures(G)).toEqual([]);
  });
});
