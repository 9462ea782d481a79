// Odd inputs through the pipeline and the CLI: PNG files of every kind (and files that are not
// PNGs), RGBA images of odd sizes up to past the budget, hostile prompts, and every option out of
// range. Valid inputs must give an image (finite: the NaN guard checks); invalid ones a specific
// error before any GPU work.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, type Device } from '@unicontrol/core';
import { UniControlModel } from '@unicontrol/model';
import { decodePng, DEFAULT_MAX_PIXELS, encodePng, OptionError, readTokenizer, UniControlPipeline, type GenerateOptions, type RgbaImage } from '@unicontrol/unicontrol';
import { readPng } from '../../packages/unicontrol/src/cli/generate.ts';
import { cleanFailure, cli, cliInProcess, ensure, environment, HAVE_SHARED, pooled, rejection, TINY_MODEL, TINY_SETTINGS, VOCAB, type CliRun } from './helpers.ts';
import { writePng, type PngSpec } from './pngWriter.ts';
import { Tally } from './record.ts';

const tally = new Tally(
  'inputs',
  'Images, prompts and options',
  20,
  'valid inputs give an image of the expected size (multiples of 64) with finite pixels; invalid ones reject with a specific error (`ImageError`, `OptionError`/`RangeError` naming the option and value) before any GPU dispatch — through `generate()`, and through `unicontrol generate` as exit status 1 (2 for malformed flags) with one line on stderr.',
);

const BOS = 49406;
const EOS = 49407;

/** A photo-like RGBA image: gradients with a bright square. */
function photo(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const inside = x > width / 4 && x < (3 * width) / 4 && y > height / 4 && y < (3 * height) / 4;
      data.set([inside ? 230 : (x * 255) / width, inside ? 220 : (y * 255) / height, 128, 255], 4 * (y * width + x));
    }
  return { width, height, data };
}

/** A PNG spec with a smooth pattern at any depth. */
function pattern(width: number, height: number, colorType: PngSpec['colorType'], bitDepth: PngSpec['bitDepth'], extra: Partial<PngSpec> = {}): PngSpec {
  const top = 2 ** bitDepth - 1;
  return { width, height, colorType, bitDepth, sample: (x, y, c) => Math.round((top * ((x + 2 * y + 3 * c) % 17)) / 16), ...extra };
}

describe.skipIf(!HAVE_SHARED)('odd images, prompts and options', () => {
  let device: Device;
  let pipeline: UniControlPipeline;
  let dir: string;
  let photoPng: string;

  beforeAll(async () => {
    device = await createDevice();
    const model = await UniControlModel.load(device, TINY_MODEL, { settings: TINY_SETTINGS });
    pipeline = new UniControlPipeline(model, await readTokenizer(VOCAB));
    dir = mkdtempSync(join(tmpdir(), 'odd-inputs-'));
    photoPng = join(dir, 'photo.png');
    writeFileSync(photoPng, encodePng(photo(64, 64)));
  });
  afterAll(() => {
    tally.save(environment(device));
    pipeline?.dispose();
    device?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = { prompt: 'a red house', task: 'canny', steps: 1, seed: 7, resolution: 64 } as const;

  /** Generates and checks the result: size, multiples of 64, a decodable PNG. */
  async function generates(o: GenerateOptions, size?: [number, number]): Promise<string> {
    const r = await pipeline.generate(o);
    ensure(r.width % 64 === 0 && r.height % 64 === 0, `output ${r.width}x${r.height} is not a multiple of 64`);
    if (size) ensure(r.width === size[0] && r.height === size[1], `output ${r.width}x${r.height}, expected ${size.join('x')}`);
    const png = decodePng(r.images[0].png());
    ensure(png.width === r.width && png.height === r.height, 'PNG size differs');
    return `image ${r.width}x${r.height}`;
  }

  /** The call must reject with an OptionError/RangeError matching `pattern`, with no GPU dispatch. */
  async function refuses(o: unknown, pattern: RegExp): Promise<string> {
    const before = device.recorder.dispatches;
    const err = await rejection(() => pipeline.generate(o as GenerateOptions));
    ensure(err instanceof RangeError, `${err.name}: ${err.message}`);
    ensure(pattern.test(err.message), `"${err.message}" does not match ${pattern}`);
    ensure(device.recorder.dispatches === before, 'GPU work was recorded before the error');
    return `${err.name}: ${err.message}`;
  }

  it('PNG files of every colour type and depth decode and generate; non-PNGs, corrupt PNGs and 8192² are refused', async () => {
    const G = 'PNG files';
    tally.group(G, 'gray 1/8/16-bit, gray+alpha, RGB 16-bit, RGBA with transparency, palette with tRNS, 1x1, sizes not multiples of 64; JPEG/text/empty files, truncation, CRC error, 8192x8192');
    const valid: [string, PngSpec][] = [
      ['gray 1-bit, 33x17', pattern(33, 17, 0, 1)],
      ['gray 8-bit, 70x50', pattern(70, 50, 0, 8)],
      ['gray 16-bit, 64x64', pattern(64, 64, 0, 16)],
      ['gray+alpha 8-bit, 65x65', pattern(65, 65, 4, 8)],
      ['gray+alpha 16-bit, 100x30', pattern(100, 30, 4, 16)],
      ['RGB 16-bit, 100x70', pattern(100, 70, 2, 16)],
      ['RGBA 8-bit, half transparent, 64x48', pattern(64, 48, 6, 8, { sample: (x, _y, c) => (c === 3 ? (x < 32 ? 0 : 255) : 90 * c) })],
      ['palette 4-bit with tRNS, 65x129', pattern(65, 129, 3, 4, { palette: Array.from({ length: 16 }, (_, i) => [i * 16, 255 - i * 16, 128]), transparency: Uint8Array.from([0, 128, 255]) })],
      ['palette 1-bit, 1x1', pattern(1, 1, 3, 1, { palette: [[0, 0, 0], [255, 255, 255]] })],
      ['RGBA 16-bit, 1x1', pattern(1, 1, 6, 16)],
    ];
    for (const [name, spec] of valid) {
      await tally.check(G, `${name}: decodes and generates`, async () => {
        const path = join(dir, `${name.replace(/\W+/g, '_')}.png`);
        writeFileSync(path, writePng(spec));
        const image = await readPng(path); // what the CLI does with --image
        ensure(image.width === spec.width && image.height === spec.height, 'decoded size differs');
        return generates({ ...base, image });
      });
    }
    // Files that are not PNGs, or broken ones: `unicontrol generate` exits 1 with one line.
    const good = writePng(pattern(64, 64, 2, 8));
    const crc = good.slice();
    crc[good.length - 20] ^= 0x40; // inside the IDAT data: its CRC no longer matches
    const huge = writePng(pattern(8192, 8192, 0, 1, { sample: () => 0 }));
    const broken: [string, Uint8Array, RegExp][] = [
      ['a JPEG file', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]), /not a PNG file.*JPEG/],
      ['a text file', new TextEncoder().encode('hello, world\n'), /not a PNG file/],
      ['an empty file', new Uint8Array(0), /not a PNG file/],
      ['a PNG cut in half', good.subarray(0, good.length >> 1), /corrupt PNG/],
      ['a PNG with a CRC error', crc, /corrupt PNG/],
      ['8192x8192 (over the 4096² budget)', huge, /8192x8192 = 67108864 pixels, over the limit/],
    ];
    const runs: { name: string; pattern: RegExp; run: CliRun }[] = [];
    for (const [name, bytes, pattern] of broken) {
      const path = join(dir, `${name.replace(/\W+/g, '_')}.png`);
      writeFileSync(path, bytes);
      const args = ['generate', '--weights', TINY_MODEL, '--vocab', VOCAB, '--task', 'canny', '--image', path, '--prompt', 'x', '--steps', '1', '--out', join(dir, 'o.png')];
      runs.push({ name: `generate --image ${name}`, pattern, run: await cliInProcess(args) });
      if (name.startsWith('a JPEG') || name.startsWith('8192')) runs.push({ name: `generate --image ${name} (child process)`, pattern, run: await cli(args) });
    }
    for (const { name, pattern, run } of runs) {
      await tally.check(G, name, () => {
        const line = cleanFailure(run);
        ensure(pattern.test(line), `"${line}" does not match ${pattern}`);
        return `exit ${run.status}: ${line.replace(dir, '<dir>')}`;
      });
    }
    await tally.check(G, '8192x8192 refused from its header, within the budget', () => {
      const before = process.memoryUsage();
      const err = (() => {
        try {
          decodePng(huge);
        } catch (e) {
          return e as Error;
        }
        throw new Error('decoded');
      })();
      const after = process.memoryUsage();
      const grew = after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed;
      ensure(grew < 16 << 20, `host memory grew by ${grew} bytes`);
      tally.figure('PNG pixel budget (DEFAULT_MAX_PIXELS; the pipeline refuses larger RGBA inputs too)', `${DEFAULT_MAX_PIXELS} pixels (4096²)`);
      tally.figure('host memory used refusing the 8192x8192 PNG', `${(Math.max(0, grew) / 2 ** 20).toFixed(2)} MiB`);
      return `${err.name}: ${err.message}`;
    });
    expect(tally.failures(G)).toEqual([]);
  });

  it('RGBA images of odd sizes: 1x1, not multiples of 64, at and over the pixel budget, extreme aspect ratios', async () => {
    const G = 'RGBA images given to generate()';
    tally.group(G, '1x1, 100x70 (with and without width/height), 65x129, 4096² at the budget, 8192² and 4097x4096 over it, 4096x1, malformed image objects');
    await tally.check(G, '1x1 photo', () => generates({ ...base, image: photo(1, 1) }, [64, 64]));
    await tally.check(G, '100x70 photo, sized by resolution', () => generates({ ...base, image: photo(100, 70) }, [64, 64]));
    await tally.check(G, '100x70 photo, width 100 height 70 (snapped)', () => generates({ ...base, image: photo(100, 70), width: 100, height: 70 }, [128, 64]));
    await tally.check(G, '65x129 condition map, resolution 128', () => generates({ ...base, task: 'seg', condition: photo(65, 129), resolution: 128 }, [128, 256]));
    await tally.check(G, 'Uint8ClampedArray data (ImageData)', () => {
      const p = photo(64, 64);
      return generates({ ...base, image: { ...p, data: new Uint8ClampedArray(p.data) } }, [64, 64]);
    });
    await tally.check(G, '4096x4096 condition map (at the budget)', () => generates({ ...base, task: 'seg', condition: { width: 4096, height: 4096, data: new Uint8Array(4096 * 4096 * 4).fill(255) } }, [64, 64]));
    await tally.check(G, '8192x8192 photo (over the budget)', async () => {
      const image = { width: 8192, height: 8192, data: new Uint8Array(8192 * 8192 * 4) };
      const before = process.memoryUsage().arrayBuffers;
      const out = await refuses({ ...base, image }, /options\.image is 8192x8192 = 67108864 pixels, over the limit of 16777216/);
      ensure(process.memoryUsage().arrayBuffers - before < 16 << 20, 'memory was allocated before refusing');
      return out;
    });
    await tally.check(G, '4097x4096 condition (one column over)', () => refuses({ ...base, task: 'seg', condition: { width: 4097, height: 4096, data: new Uint8Array(4097 * 4096 * 4) } }, /over the limit of 16777216/));
    await tally.check(G, '4096x1 photo (aspect ratio gives a 262144 px side)', () => refuses({ ...base, image: photo(4096, 1) }, /output would be 262144x64 pixels .* over the limit of 2048 per side/));
    await tally.check(G, 'data one byte short', () => refuses({ ...base, image: { width: 8, height: 8, data: new Uint8Array(255) } }, /options\.image must be an RGBA image \{ width, height, data \} with width·height·4 bytes/));
    await tally.check(G, 'width 0', () => refuses({ ...base, image: { width: 0, height: 8, data: new Uint8Array(0) } }, /options\.image must be an RGBA image/));
    await tally.check(G, 'height NaN', () => refuses({ ...base, image: { width: 8, height: Number.NaN, data: new Uint8Array(256) } }, /options\.image must be an RGBA image/));
    await tally.check(G, 'no data', () => refuses({ ...base, image: { width: 8, height: 8 } }, /options\.image must be an RGBA image/));
    await tally.check(G, 'a string instead of an image', () => refuses({ ...base, image: 'photo.png' }, /options\.image must be an RGBA image/));
    expect(tally.failures(G)).toEqual([]);
  });

  it('prompts: empty, 10 000 characters, control characters, emoji, broken UTF-16 — tokenized to 77 ids, generated', async () => {
    const G = 'prompts';
    tally.group(G, 'empty, whitespace, 10 000 characters (words, one word, emoji, control characters), lone surrogates, NUL, RTL with combining marks, special-token text, HTML entities; long added/negative prompts; non-strings');
    const image = photo(64, 64);
    const controls = Array.from({ length: 10_000 }, (_, i) => String.fromCharCode([...Array(32).keys(), 127, ...Array.from({ length: 32 }, (_, k) => 0x80 + k)][i % 65])).join('');
    const prompts: [string, string][] = [
      ['empty', ''],
      ['whitespace only', ' \t\n\r '.repeat(20)],
      ['10 000 characters of words', 'a red house by the sea, '.repeat(417).slice(0, 10_000)],
      ['one 10 000-character word', 'x'.repeat(10_000)],
      ['10 000 control characters (C0, DEL, C1)', controls],
      ['emoji with ZWJ sequences and skin tones, 10 000 code units', '👨‍👩‍👧‍👦🏠🐱👍🏽'.repeat(1000).slice(0, 10_000)],
      ['lone surrogates', '\ud800 cat \udfff dog \ud83d'],
      ['NUL characters', 'a\0b\0c'.repeat(100)],
      ['right-to-left text and combining marks', 'בית אדום ́̃̈ e\u0301\u0302\u0303 مرحبا'],
      ['special-token text', '<|startoftext|> a cat <|endoftext|>'.repeat(50)],
      ['HTML entities', '&amp;&lt;&gt;&quot;&#39;&nbsp;'.repeat(100)],
    ];
    for (const [name, prompt] of prompts) {
      await tally.check(G, name, async () => {
        const started = performance.now();
        const ids = pipeline.tokenizer.tokenize([prompt]);
        ensure(ids.length === 77 && ids[0] === BOS && ids[76] === EOS, `ids ${ids.slice(0, 3)}…${ids.slice(-2)}`);
        const tokenMs = performance.now() - started;
        ensure(tokenMs < 1000, `tokenizing took ${tokenMs.toFixed(0)} ms`);
        const content = ids.indexOf(EOS) - 1;
        return `${content} content tokens (${content === 75 ? 'truncated' : 'fits'}), ${tokenMs.toFixed(1)} ms; ${await generates({ ...base, image, prompt })}`;
      });
    }
    await tally.check(G, '10 000-character added and negative prompts', () => generates({ ...base, image, addedPrompt: 'z'.repeat(10_000), negativePrompt: '🙂'.repeat(5000) }));
    await tally.check(G, 'the same odd prompt twice gives identical bytes', async () => {
      const a = await pipeline.generate({ ...base, image, prompt: controls });
      const b = await pipeline.generate({ ...base, image, prompt: controls });
      ensure(Buffer.from(a.images[0].rgba).equals(Buffer.from(b.images[0].rgba)), 'images differ');
      return 'identical';
    });
    for (const [name, prompt] of [['a number', 42], ['null', null], ['missing', undefined], ['an array of strings', ['a', 'b']]] as const) {
      await tally.check(G, `prompt ${name}`, () => refuses({ ...base, image, prompt }, /^prompt must be a string, got /));
    }
    expect(tally.failures(G)).toEqual([]);
  });

  it('options: every option out of range is refused up front, naming it and the value', async () => {
    const G = 'options';
    tally.group(G, 'task, steps, guidance, strength, eta, seed (beyond 2^53 and 2^64), samples, sizes, sampler, preview, callbacks, conditions and weights');
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['unknown task', { task: 'magic' }, /unknown task "magic": expected one of hed, canny/],
      ['task a number', { task: 3 }, /options\.task must be a task name/],
      ['no task', { task: undefined }, /task is required/],
      ['steps 0', { steps: 0 }, /^steps must be an integer from 1 to 1000, got 0$/],
      ['steps -5', { steps: -5 }, /^steps must be an integer from 1 to 1000, got -5$/],
      ['steps NaN', { steps: Number.NaN }, /^steps must be .*got NaN$/],
      ['steps 2.5', { steps: 2.5 }, /^steps must be .*got 2\.5$/],
      ['steps 1e9', { steps: 1e9 }, /^steps must be .*got 1000000000$/],
      ['steps Infinity', { steps: Infinity }, /^steps must be .*got Infinity$/],
      ['steps "10"', { steps: '10' }, /^steps must be .*got "10"$/],
      ['guidance -1', { guidance: -1 }, /^guidance must be a number from 0 to 100, got -1$/],
      ['guidance NaN', { guidance: Number.NaN }, /^guidance must be .*got NaN$/],
      ['guidance Infinity', { guidance: Infinity }, /^guidance must be .*got Infinity$/],
      ['guidance 1e6', { guidance: 1e6 }, /^guidance must be .*got 1000000$/],
      ['strength -0.1', { strength: -0.1 }, /^strength must be a number from 0 to 10, got -0\.1$/],
      ['strength NaN', { strength: Number.NaN }, /^strength must be .*got NaN$/],
      ['strength 1e9', { strength: 1e9 }, /^strength must be .*got 1000000000$/],
      ['eta -0.5', { eta: -0.5 }, /^eta must be a number from 0 to 1, got -0\.5$/],
      ['eta 1.5', { eta: 1.5 }, /^eta must be .*got 1\.5$/],
      ['eta NaN', { eta: Number.NaN }, /^eta must be .*got NaN$/],
      ['seed 2^53 + 2 as a number', { seed: 2 ** 53 + 2 }, /seed must be exactly representable \(≤ 2\^53 − 1\); pass larger seeds as a bigint, got 9007199254740994/],
      ['seed 2^64 as a bigint', { seed: 2n ** 64n }, /^seed must be an integer from 0 to 2\^64 − 1, got 18446744073709551616n$/],
      ['seed -1', { seed: -1 }, /^seed must be an integer from 0 to 2\^64 − 1, got -1$/],
      ['seed -1n', { seed: -1n }, /got -1n$/],
      ['seed 1.5', { seed: 1.5 }, /got 1\.5$/],
      ['seed NaN', { seed: Number.NaN }, /got NaN$/],
      ['seed "42"', { seed: '42' }, /got "42"$/],
      ['samples 0', { samples: 0 }, /^samples must be an integer from 1 to 16, got 0$/],
      ['samples 17', { samples: 17 }, /got 17$/],
      ['width 63', { width: 63 }, /^width must be an integer from 64 to 2048, got 63$/],
      ['height 4096', { height: 4096 }, /^height must be an integer from 64 to 2048, got 4096$/],
      ['width NaN', { width: Number.NaN }, /^width must be .*got NaN$/],
      ['resolution 0', { resolution: 0 }, /^resolution must be an integer from 64 to 2048, got 0$/],
      ['sampler "euler"', { sampler: 'euler' }, /^sampler must be one of ddim, ddpm, dpmpp2m, got "euler"$/],
      ['preview -1', { preview: -1 }, /^preview must be an integer from 0 to 1000, got -1$/],
      ['preview "yes"', { preview: 'yes' }, /^preview must be .*got "yes"$/],
      ['onProgress not a function', { onProgress: 'log' }, /^onProgress must be a function, got "log"$/],
      ['signal not an AbortSignal', { signal: {} }, /^signal must be an AbortSignal/],
      ['guessMode "yes"', { guessMode: 'yes' }, /^guessMode must be true or false, got "yes"$/],
      ['empty conditions', { task: undefined, image: undefined, conditions: [] }, /^conditions must be a non-empty array$/],
      ['conditions and task', { conditions: [{ task: 'canny', image: photo(8, 8) }] }, /give either conditions or task/],
      ['condition weight -1', { task: undefined, image: undefined, conditions: [{ task: 'canny', image: photo(8, 8), weight: -1 }] }, /conditions\[0\]\.weight must be a finite number ≥ 0, got -1/],
      ['condition weight NaN', { task: undefined, image: undefined, conditions: [{ task: 'canny', image: photo(8, 8), weight: Number.NaN }] }, /weight must be a finite number ≥ 0, got NaN/],
      ['all condition weights 0', { task: undefined, image: undefined, conditions: [{ task: 'canny', image: photo(8, 8), weight: 0 }, { task: 'seg', condition: photo(8, 8), weight: 0 }] }, /condition weights must not all be 0/],
      ['photo for a task without a preprocessor', { task: 'depth' }, /task control_depth has no built-in preprocessor; pass its condition map/],
      ['both condition and image', { condition: photo(8, 8) }, /give either condition or image, not both/],
      ['neither condition nor image', { image: undefined }, /needs a condition map \(condition\) or a photo \(image\)/],
      ['empty instruction', { task: undefined, image: undefined, instruction: '  ', condition: photo(8, 8) }, /instruction must be a non-empty string/],
      ['adapterWeights with an unknown task', { task: undefined, image: undefined, instruction: 'x to image', condition: photo(8, 8), adapterWeights: { magic: 1 } }, /unknown task "magic"/],
      ['adapterWeights negative', { task: undefined, image: undefined, instruction: 'x to image', condition: photo(8, 8), adapterWeights: { canny: -1 } }, /adapterWeights\.canny must be a finite number ≥ 0, got -1/],
      ['adapterWeights all 0', { task: undefined, image: undefined, instruction: 'x to image', condition: photo(8, 8), adapterWeights: { canny: 0 } }, /at least one task a non-zero weight/],
      ['options not an object', null as unknown as Record<string, unknown>, /options must be an object, got null/],
    ];
    const image = photo(64, 64);
    for (const [name, o, pattern] of bad) await tally.check(G, name, () => refuses(o === null ? null : { ...base, image, ...o }, pattern));
    // Up front: a bad call rejects while an earlier call is still sampling, not after it.
    await tally.check(G, 'a bad call rejects before a queued generation finishes', async () => {
      let sampled = false;
      const running = pipeline.generate({ ...base, image, steps: 4 }).then(() => (sampled = true));
      await rejection(() => pipeline.generate({ ...base, image, steps: 0 }));
      ensure(!sampled, 'the rejection came after the earlier generation');
      await running;
      return 'rejected while the earlier call was running';
    });
    // Edge values that are valid.
    await tally.check(G, 'seed 2^64 − 1 as a bigint, guidance 0, strength 0, eta 1', async () => {
      const r = await pipeline.generate({ ...base, image, seed: 2n ** 64n - 1n, guidance: 0, strength: 0, eta: 1 });
      ensure(r.seed === 2n ** 64n - 1n, `seed ${r.seed}`);
      return `image ${r.width}x${r.height}, seed ${r.seed}`;
    });
    await tally.check(G, 'seed 2^53 + 1 as a bigint differs from 2^53', async () => {
      const a = await pipeline.generate({ ...base, image, seed: 2n ** 53n });
      const b = await pipeline.generate({ ...base, image, seed: 2n ** 53n + 1n });
      ensure(!Buffer.from(a.images[0].rgba).equals(Buffer.from(b.images[0].rgba)), 'same image for seeds 2^53 and 2^53 + 1');
      return 'different images';
    });
    expect(tally.failures(G)).toEqual([]);
  });

  it('the CLI refuses bad option values before loading the model: exit 1 (2 for malformed flags), one line', async () => {
    const G = 'options via unicontrol generate';
    tally.group(G, 'out-of-range values (exit 1) and malformed flags (exit 2)');
    const cases: [string, string[], number, RegExp][] = [
      ['--steps 0', ['--steps', '0'], 1, /steps must be an integer from 1 to 1000, got 0/],
      ['--steps 1e9', ['--steps', '1e9'], 1, /steps must be an integer from 1 to 1000, got 1000000000/],
      ['--steps abc', ['--steps', 'abc'], 2, /--steps must be a number, got "abc"/],
      ['--guidance NaN', ['--guidance', 'NaN'], 2, /--guidance must be a number, got "NaN"/],
      ['--guidance -1', ['--guidance', '-1'], 1, /guidance must be a number from 0 to 100, got -1/],
      ['--eta 2', ['--eta', '2'], 1, /eta must be a number from 0 to 1, got 2/],
      ['--strength 11', ['--strength', '11'], 1, /strength must be a number from 0 to 10, got 11/],
      ['--seed -1', ['--seed', '-1'], 2, /--seed must be a non-negative integer/],
      ['--seed 2^64', ['--seed', '18446744073709551616'], 1, /seed must be an integer from 0 to 2\^64 − 1, got 18446744073709551616n/],
      ['--task magic', ['--task', 'magic'], 1, /unknown task "magic"/],
      ['--sampler euler', ['--sampler', 'euler'], 1, /sampler must be one of ddim, ddpm, dpmpp2m, got "euler"/],
      ['--width 10', ['--width', '10'], 1, /width must be an integer from 64 to 2048, got 10/],
      ['--samples 0', ['--samples', '0'], 1, /samples must be an integer from 1 to 16, got 0/],
      ['--preprocess not JSON', ['--preprocess', '{low:'], 2, /--preprocess must be JSON/],
    ];
    const args = (extra: string[]): string[] => {
      const a = ['generate', '--weights', TINY_MODEL, '--vocab', VOCAB, '--task', 'canny', '--image', photoPng, '--prompt', 'x', '--out', join(dir, 'o.png')];
      for (let i = 0; i < extra.length; i += 2) {
        const at = a.indexOf(extra[i]);
        if (at >= 0) a[at + 1] = extra[i + 1];
        else a.push(extra[i], extra[i + 1]);
      }
      return a;
    };
    for (const [name, extra, status, pattern] of cases) {
      const run = await cliInProcess(args(extra));
      await tally.check(G, name, () => {
        const line = cleanFailure(run, [status]);
        ensure(pattern.test(run.stderr), `"${run.stderr}" does not match ${pattern}`);
        ensure(run.ms < 2000, `took ${run.ms.toFixed(0)} ms (the model must not be loaded first)`);
        return `exit ${run.status}: ${line}`;
      });
    }
    expect(tally.failures(G)).toEqual([]);
  });
});
