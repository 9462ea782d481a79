// The pipeline users call: load once, generate many.

import { cast, concat, createDevice, tensor, zeros, type ByteSource, type Device, type Tensor } from '@unicontrol/core';
import { UniControlModel, type ClipTokenizer, type ControlConditions, type LoadCheckpointOptions, type PreparedContext, type PreparedControl, type TaskName } from '@unicontrol/model';
import { classifierFreeGuidance, NoiseGenerator, noiseTensor, sample } from '@unicontrol/sampler';
import { encodePng } from '../image/index.ts';
import { taskInfo, type TaskInfo } from '../tasks.ts';
import { checkConditionSpec, conditionMap, fitCondition, hintTensor } from './conditions.ts';
import { checkDecoded, LatentGuard } from './finite.ts';
import { OptionError, resolveOptions, type ConditionSpec, type GenerateOptions, type ResolvedOptions, type RgbaImage } from './options.ts';
import { outputSize } from './outputSize.ts';
import { latentPreview } from './preview.ts';
import { adapterWeightsBySimilarity } from './similarity.ts';

/** One generated image. */
export interface GeneratedImage {
  width: number;
  height: number;
  /** RGBA pixels, row-major. */
  rgba: Uint8Array;
  /** The image as PNG bytes. */
  png(): Uint8Array;
}

/** What `generate()` returns. */
export interface GenerateResult {
  images: GeneratedImage[];
  /** The seed used (the one given, or the random one drawn). */
  seed: bigint;
  width: number;
  height: number;
  /** The condition maps as the model saw them (resized), by task. */
  conditions: { task: TaskName; map: RgbaImage; weight: number }[];
  /**
   * Milliseconds per stage. `plan` is the kernel autotune and pipeline compilation before the first
   * step (long only the first time a shape runs on an adapter; see `GenerateOptions.autotune`);
   * `sampling` runs from the first step to the last.
   */
  timings: { condition: number; text: number; plan: number; sampling: number; decode: number };
}

/**
 * UniControl on one device: a loaded model and tokenizer. `generate()` calls run one at a time
 * (later calls wait for earlier ones), so one pipeline can be shared. A call rejects with
 * `OptionError` (bad options, before it queues), `NonFiniteError` (NaN/Inf latents, naming the
 * step), `DeviceLostError` (the device went away), or the signal's reason (aborted).
 */
export class UniControlPipeline {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly model: UniControlModel,
    readonly tokenizer: ClipTokenizer,
  ) {}

  /** Loads weights (path, Blob, ByteSource) onto a device (a new one by default). */
  static async load(options: { weights: string | Blob | ByteSource; tokenizer: ClipTokenizer; device?: Device } & LoadCheckpointOptions): Promise<UniControlPipeline> {
    const device = options.device ?? (await createDevice());
    const model = await UniControlModel.load(device, options.weights, options);
    return new UniControlPipeline(model, options.tokenizer);
  }

  get device(): Device {
    return this.model.device;
  }

  /**
   * Generates images for a prompt under one or more visual conditions. See `GenerateOptions`.
   * Options are checked at once, so a bad call fails without waiting for the calls queued before it.
   */
  generate(options: GenerateOptions): Promise<GenerateResult> {
    let checked: { o: ResolvedOptions; specs: ConditionSpec[] };
    try {
      checked = checkGenerateOptions(options);
    } catch (e) {
      return Promise.reject(e);
    }
    const run = this.queue.then(() => this.run(options, checked.o, checked.specs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Frees the model's GPU memory. */
  dispose(): void {
    this.model.dispose();
  }

  private async run(options: GenerateOptions, o: ResolvedOptions, specs: ConditionSpec[]): Promise<GenerateResult> {
    options.signal?.throwIfAborted(); // aborted while queued
    const { model, device } = this;
    device.check(); // a lost device fails here, before the CPU-side preprocessing
    const t0 = performance.now();
    const maps = specs.map((s, i) => ({ ...conditionMap(s, conditionLabel(options, i)), weight: s.weight ?? 1 }));
    const { width, height } = outputSize(maps[0].map, o);
    const fitted = maps.map((m) => ({ ...m, map: fitCondition(m, width, height) }));
    const instruction = options.instruction ?? fitted.map((m) => m.task.instruction).join(', ');
    const adapters = await this.adapterWeights(options, fitted);
    const t1 = performance.now();

    const n = o.samples;
    // Guidance 1 leaves the conditional prediction alone: the official sampler then calls the
    // model on the conditional batch only, not on the [uncond; cond] pair (half the work per step).
    const guided = o.guidance !== 1;
    const batch = guided ? 2 * n : n;
    const result = await device.scope(async () => {
      const ids = (texts: string[]): Tensor => tensor(device, this.tokenizer.tokenize(texts), [texts.length, 77], { dtype: 'i32' });
      const cond = model.encodeText(ids(Array(n).fill(`${o.prompt}, ${o.addedPrompt}`)));
      // Guess mode as the official inference demo: '' and a zero hint for the unconditional half.
      const uncond = guided ? model.encodeText(ids(Array(n).fill(o.guessMode ? '' : o.negativePrompt))) : undefined;
      const taskFeature = model.taskFeature(ids([instruction]));
      const context = uncond ? concat([uncond, cond], 0) : cond;
      // In the model's storage dtype once, not cast again at every step.
      const hints = new Map(fitted.map((m) => [m, model.input(hintTensor(device, m.map, n))]));
      const conditions: ControlConditions = {
        adapters: adapters.map((a) => {
          const hint = hints.get(a.source)!;
          return { task: a.task, weight: a.weight, hint: guided ? concat([o.guessMode ? zeros(device, hint.shape, hint.dtype) : hint, hint], 0) : hint };
        }),
      };
      const scales = controlScales(o.strength, o.guessMode, model.controlNet.numControls);
      await device.sync();
      const t2 = performance.now();

      const generator = new NoiseGenerator(o.seed);
      const xT = noiseTensor(device, [n, model.config.unet.inChannels, height / 8, width / 8], generator);
      const alphasCumprod = model.schedule.alphas_cumprod;
      if (!alphasCumprod) throw new Error('the checkpoint has no alphas_cumprod schedule buffer');
      // The hint path, the task HyperNet's scales and the text's keys and values do not change
      // between steps: computed once.
      const prepare = (): Prepared => ({ control: model.prepareControl({ ...conditions, taskFeature, scales }, batch), text: model.prepareContext(context) });
      const denoiser =
        ({ control, text }: Prepared) =>
        (x: Tensor, timestep: number): Tensor => {
          const t = tensor(device, new Float32Array(batch).fill(timestep), [batch]);
          const out = model.applyModel(guided ? concat([x, x], 0) : x, t, text, control);
          // The latents stay float32 whatever the model's storage; ε joins them in their dtype.
          const eps = guided ? classifierFreeGuidance(out, o.guidance).eps : out;
          return eps.dtype === x.dtype ? eps : cast(eps, x.dtype as 'f32' | 'f16');
        };
      const rehearse = (): void => device.scope(() => void denoiser(prepare())(xT, 0));
      // The step runs `steps` times: its kernel choices are worth measuring first (once per shape).
      if (o.autotune) await device.autotune(rehearse);
      // Every pipeline of the preparation, a step and the decode, compiled in parallel now rather
      // than one by one as the run reaches them.
      await device.compileAhead(() => {
        rehearse();
        device.scope(() => void model.decode(xT));
      });
      // Sampling, as timed and as reported in progress, starts here.
      const started = performance.now();
      const denoise = denoiser(prepare());
      // Progress reports run in order; a preview waits for its readback without holding up
      // sampling. A failing report (or preview) is kept and ends the run at the next step.
      const failure: { error?: unknown; failed: boolean } = { failed: false };
      let reports: Promise<void> = Promise.resolve();
      const guard = new LatentGuard(device);
      const sampling = sample(
        denoise,
        xT,
        {
          sampler: o.sampler,
          steps: o.steps,
          eta: o.eta,
          alphasCumprod,
          noise: generator,
          signal: options.signal,
          onStep: async ({ step, total, timestep, x, predX0 }) => {
            if (failure.failed) throw failure.error;
            const wantPreview = o.previewEvery > 0 && ((step + 1) % o.previewEvery === 0 || step === total - 1);
            const preview = wantPreview ? latentPreview(predX0.keep()).finally(() => predX0.dispose()) : undefined;
            preview?.catch(() => undefined); // observed by the report below; never an unhandled rejection
            // The NaN/Inf guard (see finite.ts): its 4-byte flag read stands in for the sampler's
            // wait, so the step's GPU work is done after it and the elapsed time includes it (timed
            // before it, step 1 reported the time to record it and an ETA of almost 0).
            await guard.check(x, step, total, timestep);
            const elapsedMs = performance.now() - started;
            const progress = { step, total, timestep, elapsedMs, etaMs: (elapsedMs / (step + 1)) * (total - step - 1) };
            reports = reports
              .then(async () => {
                if (!failure.failed) options.onProgress?.({ ...progress, preview: await preview });
              })
              .catch((error: unknown) => {
                if (!failure.failed) Object.assign(failure, { failed: true, error });
              });
          },
        },
      );
      const latent = await sampling.finally(() => reports);
      if (failure.failed) throw failure.error;
      const t3 = performance.now();
      const pixels = await toRgba(model.decode(latent));
      return { pixels, t2, started, t3 };
    });
    const t4 = performance.now();
    const plane = width * height;
    const images = Array.from({ length: n }, (_, i) => image(width, height, result.pixels.subarray(i * plane * 4, (i + 1) * plane * 4)));
    return {
      images,
      seed: o.seed,
      width,
      height,
      conditions: fitted.map((m) => ({ task: m.task.name, map: m.map, weight: m.weight })),
      timings: { condition: t1 - t0, text: result.t2 - t1, plan: result.started - result.t2, sampling: result.t3 - result.started, decode: t4 - result.t3 },
    };
  }

  /** Which adapters read which condition, with what weight. */
  private async adapterWeights(options: GenerateOptions, fitted: { task: TaskInfo; weight: number; map: RgbaImage }[]) {
    if (options.instruction === undefined) return fitted.map((m) => ({ source: m, task: m.task.name, weight: m.weight }));
    if (fitted.length !== 1) throw new OptionError('instruction (an unseen task) takes one condition');
    const weights = options.adapterWeights ?? (await adapterWeightsBySimilarity(this.model, this.tokenizer, options.instruction)).weights;
    const entries = Object.entries(weights).filter(([, w]) => w !== 0);
    if (entries.length === 0) throw new OptionError('adapterWeights must give at least one task a non-zero weight');
    return entries.map(([name, weight]) => {
      if (typeof weight !== 'number' || !(weight > 0) || !Number.isFinite(weight)) throw new OptionError(`adapterWeights.${name} must be a positive number, got ${String(weight)}`);
      return { source: fitted[0], task: taskInfo(name).name, weight };
    });
  }
}

/**
 * Everything about a `generate()` call that can be checked without the GPU or the preprocessors:
 * the scalar options, the callbacks, and each condition's task, images (size budget included) and
 * weight. Throws `OptionError` (or `RangeError` for an unknown task) naming the option and value.
 */
export function checkGenerateOptions(options: GenerateOptions): { o: ResolvedOptions; specs: ConditionSpec[] } {
  const o = resolveOptions(options);
  const specs = conditionSpecs(options);
  const checked = specs.map((spec, i) => checkConditionSpec(spec, conditionLabel(options, i)));
  outputSize((checked[0].condition ?? checked[0].image)!, o); // preprocessors keep the size, so this is the output's
  if (!(specs.reduce((sum, spec) => sum + (spec.weight ?? 1), 0) > 0)) throw new OptionError('condition weights must not all be 0');
  if (options.adapterWeights !== undefined) checkAdapterWeights(options.adapterWeights);
  return { o, specs };
}

/** How messages name condition `i`: by its place in `conditions`, or as the top-level options. */
function conditionLabel(options: GenerateOptions, i: number): string {
  return options.conditions !== undefined ? `conditions[${i}]` : 'options';
}

/** `adapterWeights`: task names to weights ≥ 0, at least one positive. */
function checkAdapterWeights(weights: Record<string, number>): void {
  if (weights === null || typeof weights !== 'object') throw new OptionError(`adapterWeights must be an object of task names to weights, got ${String(weights)}`);
  for (const [name, w] of Object.entries(weights)) {
    taskInfo(name);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new OptionError(`adapterWeights.${name} must be a finite number ≥ 0, got ${String(w)}`);
  }
  if (!Object.values(weights).some((w) => w > 0)) throw new OptionError('adapterWeights must give at least one task a non-zero weight');
}

/** The conditions of the options as a list (one condition, or `conditions`). */
function conditionSpecs(o: GenerateOptions): ConditionSpec[] {
  if (o.conditions !== undefined) {
    if (o.task !== undefined || o.condition !== undefined || o.image !== undefined) throw new OptionError('give either conditions or task with condition/image, not both');
    if (!Array.isArray(o.conditions) || o.conditions.length === 0) throw new OptionError('conditions must be a non-empty array');
    return o.conditions;
  }
  if (o.instruction !== undefined) {
    // An unseen task has no preprocessor: the known adapters read the map as given (resized bilinearly).
    if (typeof o.instruction !== 'string' || o.instruction.trim() === '') throw new OptionError('instruction must be a non-empty string');
    if (o.condition === undefined || o.image !== undefined || o.task !== undefined) {
      throw new OptionError('an unseen task (instruction) takes its condition map as condition, without task or image');
    }
    return [{ task: 'control_img', condition: o.condition }];
  }
  if (o.task === undefined) throw new OptionError('task is required (or conditions, or instruction for an unseen task)');
  return [{ task: o.task, condition: o.condition, image: o.image, preprocess: o.preprocess }];
}

/** The parts of a sampling step that do not change between steps, computed once per run. */
interface Prepared {
  control: PreparedControl;
  text: PreparedContext;
}

/**
 * Control scales of the official demo: `strength` for every residual, or in guess mode
 * strength·0.825^(12−i) over the 13 residuals (paired by position; a model with N residuals uses
 * the first N, as Python's zip does).
 */
export function controlScales(strength: number, guessMode: boolean, count: number): number[] {
  const n = Math.max(13, count);
  return Array.from({ length: count }, (_, i) => (guessMode ? strength * 0.825 ** (n - 1 - i) : strength));
}

/** Decoded images `[n, 3, H, W]` → RGBA bytes as the demo converts them: (x·127.5 + 127.5) clipped, truncated. */
async function toRgba(x: Tensor): Promise<Uint8Array> {
  const [n, , h, w] = x.shape;
  const v = (await x.read()) as Float32Array;
  checkDecoded(v);
  const plane = h * w;
  const out = new Uint8Array(n * plane * 4);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) out[(b * plane + i) * 4 + c] = Math.trunc(Math.min(255, Math.max(0, v[(b * 3 + c) * plane + i] * 127.5 + 127.5)));
      out[(b * plane + i) * 4 + 3] = 255;
    }
  return out;
}

function image(width: number, height: number, rgba: Uint8Array): GeneratedImage {
  return { width, height, rgba, png: () => encodePng({ width, height, data: rgba }) };
}

