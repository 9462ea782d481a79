// The whole UniControl model loaded from one checkpoint: what the sampler and pipeline call.

import { Tensor, cast, mulScalar, openSafetensors, sliceAxis, type ByteSource, type Device } from '@unicontrol/core';
import { SafetensorsReader } from '@unicontrol/core';
import { ClipTextEncoder } from './clip/textEncoder.ts';
import { TASKS, type ControlNetVersion, type TaskName, type UniControlConfig } from './config.ts';
import { ControlNet, type ControlCondition, type ControlInput } from './controlnet/controlNet.ts';
import type { Probe } from './controlnet/probe.ts';
import type { CrossAttention, KeysValues, TextContext } from './nn/attention.ts';
import { UNet } from './unet/unet.ts';
import { Autoencoder, type Posterior } from './vae/autoencoder.ts';
import { loadCheckpoint, type LoadCheckpointOptions, type LoadedCheckpoint } from './weights/checkpoint.ts';
import { PREFIX } from './weights/prefixes.ts';
import type { Weights } from './weights/weights.ts';

/** One condition image and the task adapter that reads it. */
export interface ConditionInput {
  /** Condition images `[batch, hintChannels, 8h, 8w]`, values in [0, 1]. */
  hint: Tensor;
  /** Task name (`TASKS`) or hint adapter index. */
  task: TaskName | number;
}

/**
 * The condition of one ControlNet evaluation: one condition (`hint` + `task`), or several
 * (`adapters`) whose adapter features are averaged with their weights — several conditions at
 * once, or one condition read by several adapters (a task the model was not trained on).
 */
export type Control = ControlSettings & ControlConditions;

/** The condition part of a `Control`: one condition, or several mixed by weight. */
export type ControlConditions = ConditionInput | { adapters: readonly (ConditionInput & { weight?: number })[] };

/** What every `Control` has. */
export interface ControlSettings {
  /** The task instruction's CLIP feature, `[1, 1, hiddenSize]` (`UniControlModel.taskFeature`). */
  taskFeature: Tensor;
  /**
   * Factor per control residual, by position (input blocks, then middle), as the official
   * `control_scales`; extra entries are ignored (Python's zip), and one number scales all. Default 1.
   */
  scales?: number | readonly number[];
}

/**
 * A `Control` with its condition's part of the ControlNet computed once (`prepareControl`): the
 * task HyperNet's scales and the hint path's feature, which do not change between sampling steps.
 * Its tensors belong to the scope that made it, like an op's output.
 */
export interface PreparedControl {
  condition: ControlCondition;
  scales: number | readonly number[];
  /** Frees the prepared tensors. */
  dispose(): void;
}

/**
 * A text context with every cross-attention layer's keys and values of it computed once
 * (`prepareContext`): they depend on the text alone, so the sampling steps need not recompute them
 * (46 matrix products per guided step of the full-size model). Its tensors belong to the scope that
 * made it, like an op's output.
 */
export interface PreparedContext extends TextContext {
  readonly prepared: ReadonlyMap<CrossAttention, KeysValues>;
  /** Frees the prepared tensors (the embeddings only when they are a copy cast to the model's dtype). */
  dispose(): void;
}

/**
 * UniControl: CLIP text encoder, UNet, ControlNet (task adapters + HyperNet) and VAE on one device.
 * All parameters share one storage dtype (`dtype`); inputs are cast to it.
 */
export class UniControlModel {
  readonly textEncoder: ClipTextEncoder;
  readonly unet: UNet;
  readonly controlNet: ControlNet;
  readonly vae: Autoencoder;

  private constructor(
    readonly device: Device,
    private readonly loaded: LoadedCheckpoint,
    readonly dtype: 'f32' | 'f16',
  ) {
    const { config, weights } = loaded;
    const root = weights.at('');
    this.textEncoder = new ClipTextEncoder(root.at(trim(PREFIX.clip)), config.clip);
    this.unet = new UNet(root.at(trim(PREFIX.unet)), config.unet);
    this.controlNet = new ControlNet(root.at(trim(PREFIX.controlNet)), config.unet, config.controlNet);
    this.vae = new Autoencoder(root.at(trim(PREFIX.vae)), config.vae);
  }

  /**
   * Loads a checkpoint in the official layout (`unicontrol_v1.1.st`, or any size in that layout):
   * a path (Node), a Blob/File (browser), a ByteSource, or an open reader (left open).
   */
  static async load(device: Device, source: string | Blob | ByteSource | SafetensorsReader, options: LoadCheckpointOptions = {}): Promise<UniControlModel> {
    const reader = source instanceof SafetensorsReader ? source : await openSafetensors(source);
    try {
      const loaded = await loadCheckpoint(device, reader, options);
      try {
        return new UniControlModel(device, loaded, options.dtype ?? 'f32');
      } catch (e) {
        loaded.weights.dispose();
        throw e;
      }
    } finally {
      if (reader !== source) await reader.close();
    }
  }

  get config(): UniControlConfig {
    return this.loaded.config;
  }

  get weights(): Weights {
    return this.loaded.weights;
  }

  /** The checkpoint's schedule buffers (float32 [1000] each): `alphas_cumprod`, `betas`, … */
  get schedule(): LoadedCheckpoint['schedule'] {
    return this.loaded.schedule;
  }

  /** Casts a float input to the model's storage dtype (no copy when it already matches). */
  input(x: Tensor): Tensor {
    return x.dtype === this.dtype || x.dtype === 'i32' ? x : cast(x, this.dtype);
  }

  /** CLIP's last hidden state `[batch, 77, hiddenSize]` for token ids `[batch, 77]` (i32). */
  encodeText(ids: Tensor): Tensor {
    return this.textEncoder.forward(ids);
  }

  /**
   * The task feature of an instruction's token ids `[1, 77]`: the encoder's output at position 0,
   * `[1, 1, hiddenSize]`. (The encoder is causal, so this is the same for every instruction.)
   */
  taskFeature(ids: Tensor): Tensor {
    return this.device.scope(() => sliceAxis(this.encodeText(ids), 1, 0, 1));
  }

  /** Index of a task's hint adapter; throws on an unknown name or index. */
  taskIndex(task: TaskName | number): number {
    const n = this.config.controlNet.numTasks;
    const index = typeof task === 'number' ? task : TASKS.findIndex(([name]) => name === task);
    if (!Number.isInteger(index) || index < 0 || index >= n) {
      const names = TASKS.slice(0, n).map(([name]) => name);
      throw new RangeError(`unknown task ${JSON.stringify(task)}: expected one of ${names.join(', ')} or an index 0–${n - 1}`);
    }
    return index;
  }

  /**
   * `ControlLDM.apply_model`: ε for noisy latents `x` `[batch, 4, h, w]` at timesteps `t`
   * `[batch]` with text context `[batch, 77, hiddenSize]`; with `control`, the ControlNet's scaled
   * residuals steer the UNet (without it, the plain UNet runs, as with `c_concat = None`). A
   * `PreparedControl` (made for x's batch) skips recomputing the condition's part, a
   * `PreparedContext` the projections of the text.
   */
  applyModel(x: Tensor, t: Tensor, context: Tensor | TextContext, control?: Control | PreparedControl, options: { version?: ControlNetVersion; probe?: Probe } = {}): Tensor {
    return this.device.scope(() => {
      this.checkLatent('applyModel', x);
      const [xi, ti, ci] = [this.input(x), this.input(t), this.text('applyModel', x, context)];
      if (!control) return this.unet.forward(xi, ti, ci);
      const residuals = this.controlResiduals(xi, ti, ci, control, options);
      return this.unet.forward(xi, ti, ci, residuals);
    });
  }

  /**
   * Computes the part of the ControlNet that depends on the condition alone (same result as
   * `applyModel` with `control`, without recomputing it every step) for latents of batch `batch`.
   */
  prepareControl(control: Control, batch: number, options: { version?: ControlNetVersion } = {}): PreparedControl {
    const condition = this.device.scope(() => this.controlNet.condition(this.controlInput(control), batch, options));
    return { condition, scales: control.scales ?? 1, dispose: () => [condition.hint, ...condition.zeroConvScales].forEach((t) => t.dispose()) };
  }

  /**
   * The keys and values of every cross-attention layer (UNet and ControlNet) for text context
   * `[batch, 77, hiddenSize]`, computed once: pass the result to `applyModel` in place of the context
   * at every step of a sampling run (same result, without recomputing them).
   */
  prepareContext(context: Tensor): PreparedContext {
    this.checkContext('prepareContext', context);
    const { embeddings, prepared } = this.device.scope(() => {
      const embeddings = this.input(context);
      const layers = [...this.unet.crossAttentions(), ...this.controlNet.crossAttentions()];
      return { embeddings, prepared: new Map(layers.map((layer) => [layer, layer.keysValues(embeddings)])) };
    });
    return {
      embeddings,
      prepared,
      dispose: () => {
        for (const { keys, values } of prepared.values()) [keys, values].forEach((t) => t.dispose());
        if (embeddings !== context) embeddings.dispose();
      },
    };
  }

  /** The ControlNet's residuals, each multiplied by its control scale. */
  controlResiduals(x: Tensor, t: Tensor, context: Tensor | TextContext, control: Control | PreparedControl, options: { version?: ControlNetVersion; probe?: Probe } = {}): Tensor[] {
    const outs = this.controlNet.forward(x, t, this.text('controlResiduals', x, context), 'condition' in control ? control.condition : this.controlInput(control), options);
    const { scales = 1 } = control;
    return outs.map((c, i) => {
      const s = typeof scales === 'number' ? scales : scales[i];
      if (s === undefined) throw new RangeError(`applyModel: ${(scales as readonly number[]).length} control scales for ${outs.length} control residuals`);
      return s === 1 ? c : mulScalar(c, s);
    });
  }

  private controlInput(control: Control): ControlInput {
    const conditions = 'adapters' in control ? control.adapters : [{ ...control, weight: 1 }];
    const adapters = conditions.map((c) => ({ hint: this.input(c.hint), task: this.taskIndex(c.task), weight: c.weight ?? 1 }));
    return { adapters, taskFeature: this.input(control.taskFeature) };
  }

  /** Latents `[batch, zChannels, h, w]` → images `[batch, 3, 8h, 8w]` (about [−1, 1], not clamped). */
  decode(z: Tensor): Tensor {
    return this.device.scope(() => this.vae.decode(this.input(z)));
  }

  /**
   * Images `[batch, 3, H, W]` in [−1, 1] (H, W multiples of 8) → the posterior: `moments`, `mean`,
   * `logvar` (clamped to [−30, 20]) and `latent` = scaleFactor · mean, `[batch, 4, H/8, W/8]` each.
   */
  encode(image: Tensor): Posterior {
    return this.device.scope(() => this.vae.encode(this.input(image)));
  }

  /** Frees every parameter. The model cannot be used afterwards. */
  dispose(): void {
    this.loaded.weights.dispose();
  }

  /** The context as the model reads it: embeddings in its dtype, or the prepared context; checked against x's batch. */
  private text(op: string, x: Tensor, context: Tensor | TextContext): TextContext {
    const text = context instanceof Tensor ? { embeddings: this.input(context) } : context;
    this.checkContext(op, text.embeddings, x);
    return text;
  }

  /** Throws unless `e` is `[batch, tokens, contextDim]`, with x's batch when x is given. */
  private checkContext(op: string, e: Tensor, x?: Tensor): void {
    const dim = this.config.unet.contextDim;
    if (e.rank !== 3 || e.shape[2] !== dim || (x && e.shape[0] !== x.shape[0])) {
      const batch = x ? ` with the batch of the latents [${x.shape.join(', ')}]` : '';
      throw new RangeError(`${op}: the text context [${e.shape.join(', ')}] must be [batch, tokens, ${dim}]${batch}`);
    }
  }

  private checkLatent(op: string, x: Tensor): void {
    const c = this.config.unet;
    const factor = 2 ** (c.channelMult.length - 1);
    const [, ch, h, w] = x.shape;
    if (x.rank !== 4 || ch !== c.inChannels || h % factor !== 0 || w % factor !== 0) {
      throw new RangeError(`${op}: latents [${x.shape.join(', ')}] must be [batch, ${c.inChannels}, h, w] with h and w multiples of ${factor}`);
    }
  }
}

function trim(prefix: string): string {
  return prefix.endsWith('.') ? prefix.slice(0, -1) : prefix;
}
