import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { decodePng, flattenAlpha } from '../image/index.ts';
import { checkGenerateOptions, UniControlPipeline } from '../pipeline/pipeline.ts';
import type { GenerateOptions } from '../pipeline/options.ts';
import { findVocabulary, readTokenizer } from '../vocabulary.ts';
import { loadTuning, saveTuningOrWarn } from './tuningCache.ts';
import { parseArgs, UsageError, type ParsedArgs } from './args.ts';
import { checkWeightsFile } from './checkWeights.ts';
import { ProgressBar } from './progress.ts';

export const GENERATE_USAGE = `usage: unicontrol generate --task TASK (--condition MAP.png | --image PHOTO.png) --prompt TEXT [options]

  --task NAME            canny, hed, hedsketch, depth, normal, seg, openpose, bbox, outpainting,
                         inpainting, grayscale, blur, img (see 'unicontrol tasks')
  --condition FILE       the condition map (PNG); for hed, sketch, depth, normal, seg, openpose
  --image FILE           a photo (PNG) for the task's preprocessor (canny, grayscale, blur,
                         outpainting, inpainting)
  --preprocess JSON      preprocessor options, e.g. '{"low":100,"high":200}'
  --prompt TEXT          what to draw
  --added-prompt TEXT    appended after ', ' (default 'best quality, extremely detailed')
  --negative-prompt TEXT (default 'worst quality, low quality')
  --steps N (50)  --guidance G (9)  --eta E (0)  --strength S (1)  --guess-mode
  --seed N               integer 0 ≤ N < 2^64 (default random; printed)
  --samples N (1)  --width W  --height H  --resolution R (512)  --sampler ddim|ddpm|dpmpp2m
  --weights FILE         (default weights/unicontrol_v1.1.st)
  --vocab PATH           CLIP vocabulary (default: weights/ or ../shared/clip/)
  --dtype f32|f16        GPU storage (default f32)
  --heads N, --clip-heads N   attention heads of UNet/ControlNet and CLIP, for checkpoints of
                         other sizes (the real model's 8 and 12 are the defaults)
  --out PATH             output PNG, or a directory (default unicontrol-<seed>.png)
  --no-autotune          skip timing the step's kernel choices before sampling (default: on,
                         kept in $XDG_CACHE_HOME/unicontrol/tuning.json, so once per adapter and size,
                         with the GPU speed the waits learned, so the next run's first step sleeps)
  --json                 print a JSON summary on stdout`;

const VALUED = ['heads', 'clip-heads', 'task', 'condition', 'image', 'preprocess', 'prompt', 'added-prompt', 'negative-prompt', 'steps', 'guidance', 'eta', 'strength', 'seed', 'samples', 'width', 'height', 'resolution', 'sampler', 'weights', 'vocab', 'dtype', 'out'] as const;

/** A flag as a number (undefined when absent); a malformed number is a usage error. */
export function numberFlag(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isNaN(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** `--preprocess`: the preprocessor's options as JSON (undefined when absent). */
export function preprocessFlag(args: ParsedArgs): Record<string, unknown> | undefined {
  const v = stringFlag(args, 'preprocess');
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as Record<string, unknown>;
  } catch {
    throw new UsageError(`--preprocess must be JSON, got ${v}`);
  }
}

/** `--seed`: decimal digits, kept exact beyond 2^53 as a bigint. */
function seedFlag(args: ParsedArgs): number | bigint | undefined {
  const v = stringFlag(args, 'seed');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--seed must be a non-negative integer, got ${JSON.stringify(v)}`);
  const big = BigInt(v);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Reads a PNG as opaque RGBA: transparent pixels over white, as the official app's HWC3. */
export async function readPng(path: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  return flattenAlpha(decodePng(await readFile(path)));
}

/** Finds the CLIP vocabulary, or says which command fetches it. */
export async function tokenizerFor(args: ParsedArgs) {
  const vocab = stringFlag(args, 'vocab') ?? findVocabulary(['weights', '../shared/clip']);
  if (!vocab) throw new Error("no CLIP vocabulary found in weights/ or ../shared/clip/; run 'unicontrol download --no-weights' or pass --vocab");
  return readTokenizer(vocab);
}

/** `unicontrol generate`; returns the exit status. */
export async function generateCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { valued: VALUED, boolean: ['guess-mode', 'json', 'no-autotune'] });
  if (args.positional.length > 0) throw new UsageError(`unexpected argument ${args.positional[0]}`);
  const prompt = stringFlag(args, 'prompt');
  if (prompt === undefined) throw new UsageError('--prompt is required');
  const task = stringFlag(args, 'task');
  if (task === undefined) throw new UsageError('--task is required');
  const conditionPath = stringFlag(args, 'condition');
  const imagePath = stringFlag(args, 'image');
  if ((conditionPath === undefined) === (imagePath === undefined)) throw new UsageError('give exactly one of --condition and --image');
  const preprocess = preprocessFlag(args);
  const dtype = stringFlag(args, 'dtype') ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got ${dtype}`);
  const weights = stringFlag(args, 'weights') ?? 'weights/unicontrol_v1.1.st';
  if (!existsSync(weights)) throw new Error(`weights file ${weights} not found; run 'unicontrol download' or pass --weights`);
  await checkWeightsFile(weights); // before the images, the vocabulary and the device

  const options: GenerateOptions = {
    prompt,
    task,
    condition: conditionPath ? await readPng(conditionPath) : undefined,
    image: imagePath ? await readPng(imagePath) : undefined,
    preprocess,
    addedPrompt: stringFlag(args, 'added-prompt'),
    negativePrompt: stringFlag(args, 'negative-prompt'),
    steps: numberFlag(args, 'steps'),
    guidance: numberFlag(args, 'guidance'),
    eta: numberFlag(args, 'eta'),
    strength: numberFlag(args, 'strength'),
    guessMode: args.flags.has('guess-mode'),
    autotune: !args.flags.has('no-autotune'),
    seed: seedFlag(args),
    samples: numberFlag(args, 'samples'),
    width: numberFlag(args, 'width'),
    height: numberFlag(args, 'height'),
    resolution: numberFlag(args, 'resolution'),
    sampler: stringFlag(args, 'sampler') as GenerateOptions['sampler'],
  };
  checkGenerateOptions(options); // bad options fail before the weights are loaded
  const tokenizer = await tokenizerFor(args);
  const loadStart = performance.now();
  const settings = { unetHeads: numberFlag(args, 'heads'), clipHeads: numberFlag(args, 'clip-heads') };
  const pipeline = await UniControlPipeline.load({ weights, tokenizer, dtype, settings });
  const loadMs = performance.now() - loadStart;
  const bar = new ProgressBar('sampling');
  const abort = new AbortController();
  const onSigint = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  if (options.autotune) loadTuning(pipeline.device);
  try {
    const result = await pipeline.generate({ ...options, signal: abort.signal, onProgress: (p) => bar.update(p.step + 1, p.total, p.etaMs) });
    bar.done();
    const out = stringFlag(args, 'out') ?? `unicontrol-${result.seed}.png`;
    const files = result.images.map((_, i) => outputPath(out, result.seed, i, result.images.length));
    for (const [i, img] of result.images.entries()) {
      await mkdir(dirname(files[i]), { recursive: true });
      await writeFile(files[i], img.png());
    }
    if (options.autotune) saveTuningOrWarn(pipeline.device);
    const summary = { files, seed: result.seed.toString(), width: result.width, height: result.height, timings_ms: { load: loadMs, ...result.timings } };
    if (args.flags.has('json')) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(`${files.join('\n')}\nseed ${summary.seed}, ${result.width}x${result.height}\n`);
    return 0;
  } finally {
    bar.done(); // an error mid-sampling must not share the bar's line
    process.off('SIGINT', onSigint);
    pipeline.dispose();
    pipeline.device.destroy();
  }
}

/** `out` as a file (several samples get -1, -2 … before the extension) or a directory. */
function outputPath(out: string, seed: bigint, i: number, count: number): string {
  const isDir = out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory());
  const file = isDir ? join(out, `unicontrol-${seed}.png`) : out;
  if (count === 1) return file;
  const ext = extname(file) || '.png';
  return `${file.slice(0, file.length - extname(file).length)}-${i + 1}${ext}`;
}
