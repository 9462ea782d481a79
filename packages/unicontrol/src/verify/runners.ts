// One runner per kind of oracle case: how to compute that case's outputs with this library.

import { clamp, concat, mulScalar, addScalar, tensor, zeros, type Tensor } from '@unicontrol/core';
import { TASKS, type TaskName } from '@unicontrol/model';
import { classifierFreeGuidance, ddimSchedule, sampleDdim } from '@unicontrol/sampler';
import { CannotRun, toHost, type CaseContext, type CaseRunner, type Produced } from './context.ts';
import type { HostTensor } from './golden.ts';
import { manifestArg, refList } from './manifest.ts';

const ids = (data: Int32Array | number[], shape: number[]): HostTensor => ({ shape, data: Int32Array.from(data) });
const floats = (data: ArrayLike<number>, shape: number[]): HostTensor => ({ shape, data: Float32Array.from(data) });

/** The golden name of output `role` (single tensor). */
function out(ctx: CaseContext, role: string, group: 'outputs' | 'intermediates' = 'outputs'): string {
  const ref = ctx.case[group]?.[role];
  if (typeof ref !== 'string') throw new CannotRun(`case ${ctx.case.name} has no ${group.slice(0, -1)} ${JSON.stringify(role)}`);
  return ref;
}

function taskName(ctx: CaseContext): TaskName {
  const name = ctx.case.args?.task_name;
  if (!TASKS.some(([t]) => t === name)) throw new CannotRun(`case ${ctx.case.name}: unknown task_name ${JSON.stringify(name)}`);
  return name as TaskName;
}

function controlScales(ctx: CaseContext): number[] | number {
  const s = ctx.case.params?.control_scales;
  return Array.isArray(s) ? (s as number[]) : 1;
}

/** Token ids `[n, 77]` of `texts` on the GPU. */
async function tokenIds(ctx: CaseContext, texts: string[]): Promise<Tensor> {
  const tok = await ctx.tokenizer();
  return tensor(ctx.device, tok.tokenize(texts), [texts.length, 77], { dtype: 'i32' });
}

const tokenizerCase: CaseRunner = async (ctx) => {
  const prompts = manifestArg<string[]>(ctx.manifest, ctx.case.args?.prompts);
  const tok = await ctx.tokenizer();
  return new Map([[out(ctx, 'input_ids'), ids(tok.tokenize(prompts), [prompts.length, 77])]]);
};

const clipCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const h = model.encodeText(await ctx.input('input_ids', { ids: true }));
  return new Map([[out(ctx, 'last_hidden_state'), await toHost(h)]]);
};

const taskFeaturesCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const instructions = manifestArg<Record<string, string>>(ctx.manifest, ctx.case.args?.instructions);
  const produced: Produced = new Map();
  for (const [task, golden] of Object.entries(ctx.case.outputs)) {
    const instruction = instructions[task];
    if (typeof instruction !== 'string' || typeof golden !== 'string') throw new CannotRun(`case ${ctx.case.name}: no instruction for ${task}`);
    produced.set(golden, await toHost(model.taskFeature(await tokenIds(ctx, [instruction]))));
  }
  return produced;
};

const controlNetCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const produced: Produced = new Map();
  const pending: Promise<void>[] = [];
  const inter = ctx.case.intermediates ?? {};
  const control = { hint: await ctx.input('hint'), task: taskName(ctx), taskFeature: await ctx.input('task_feature') };
  const [x, t, context] = [await ctx.input('x'), await ctx.input('timesteps'), await ctx.input('context')];
  const outs = model.controlResiduals(model.input(x), model.input(t), model.input(context), { ...control, scales: 1 }, {
    version: ctx.version,
    probe: (name, value) => {
      const golden = inter[name];
      if (typeof golden === 'string') pending.push(toHost(value.keep()).then((h) => void produced.set(golden, h)));
    },
  });
  await Promise.all(pending);
  const names = refList(ctx.case.outputs.controls);
  if (names.length !== outs.length) throw new CannotRun(`case ${ctx.case.name}: the model gives ${outs.length} controls, the case lists ${names.length}`);
  for (let i = 0; i < outs.length; i++) produced.set(names[i], await toHost(outs[i]));
  return produced;
};

const unetCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const control = await Promise.all(refList(ctx.case.inputs.control).map((name) => ctx.golden.tensor(ctx.device, name)));
  const [x, t, context] = [await ctx.input('x'), await ctx.input('timesteps'), await ctx.input('context')];
  const eps = model.unet.forward(model.input(x), model.input(t), model.input(context), control.length > 0 ? control.map((c) => model.input(c)) : undefined);
  return new Map([[out(ctx, 'eps'), await toHost(eps)]]);
};

const applyModelCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const [x, t, context] = [await ctx.input('x'), await ctx.input('timesteps'), await ctx.input('context')];
  const withControl = ctx.case.params?.c_concat !== null && ctx.case.inputs.hint !== undefined;
  const control = withControl
    ? { hint: await ctx.input('hint'), task: taskName(ctx), taskFeature: await ctx.input('task_feature'), scales: controlScales(ctx) }
    : undefined;
  const eps = model.applyModel(x, t, context, control, { version: ctx.version });
  return new Map([[out(ctx, 'eps'), await toHost(eps)]]);
};

const vaeDecodeCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  return new Map([[out(ctx, 'image'), await toHost(model.decode(await ctx.input('z')))]]);
};

const vaeEncodeCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const posterior = model.encode(await ctx.input('image'));
  const produced: Produced = new Map();
  for (const role of ['moments', 'mean', 'logvar', 'latent'] as const) produced.set(out(ctx, role), await toHost(posterior[role]));
  return produced;
};

/** DDIM with classifier-free guidance as the official sampler batches it: [uncond; cond]. */
async function guidedDdim(
  ctx: CaseContext,
  inputs: { xT: Tensor; hint: Tensor; uncondHint: Tensor; taskFeature: Tensor; cond: Tensor; uncond: Tensor },
  record: (kind: 'x' | 'pred_x0' | 'eps_uncond' | 'eps_cond', step: number, t: Tensor) => void,
): Promise<Tensor> {
  const model = await ctx.model();
  const p = ctx.case.params ?? {};
  const steps = Number(p.steps);
  const scale = Number(p.scale);
  const alphasCumprod = model.schedule.alphas_cumprod;
  if (!alphasCumprod) throw new CannotRun('the checkpoint has no alphas_cumprod');
  const context = concat([inputs.uncond, inputs.cond], 0);
  const hint = concat([inputs.uncondHint, inputs.hint], 0);
  const control = { hint, task: taskName(ctx), taskFeature: inputs.taskFeature, scales: controlScales(ctx) };
  const batch = inputs.xT.shape[0];
  const latent = sampleDdim(
    (x, timestep, step) => {
      const t = tensor(ctx.device, new Float32Array(2 * batch).fill(timestep), [2 * batch]);
      const { eps, uncond, cond } = classifierFreeGuidance(model.applyModel(concat([x, x], 0), t, context, control, { version: ctx.version }), scale);
      record('eps_uncond', step, uncond);
      record('eps_cond', step, cond);
      return eps;
    },
    model.input(inputs.xT),
    {
      steps,
      eta: Number(p.eta ?? 0),
      alphasCumprod,
      onStep: ({ step, x, predX0 }) => {
        record('x', step, x);
        record('pred_x0', step, predX0);
      },
    },
  );
  return latent;
}

/** Runs a guided DDIM case and collects per-step tensors, the schedule and the decoded image. */
/** Returns the raw decoded image `[batch, 3, H, W]`. */
async function ddimOutputs(ctx: CaseContext, inputs: Parameters<typeof guidedDdim>[1], produced: Produced): Promise<Tensor> {
  const model = await ctx.model();
  const pending: Promise<void>[] = [];
  const perStep: Record<string, string[]> = {
    x: refList(ctx.case.outputs.x_per_step),
    pred_x0: refList(ctx.case.outputs.pred_x0_per_step),
    eps_uncond: refList(ctx.case.intermediates?.eps_uncond_per_step),
    eps_cond: refList(ctx.case.intermediates?.eps_cond_per_step),
  };
  const latent = await guidedDdim(ctx, inputs, (kind, step, t) => {
    const name = perStep[kind][step];
    if (name) pending.push(toHost(t.keep()).then((h) => void produced.set(name, h)));
  });
  await Promise.all(pending);
  const steps = Number(ctx.case.params?.steps);
  const schedule = ddimSchedule(model.schedule.alphas_cumprod ?? [], steps, Number(ctx.case.params?.eta ?? 0));
  const ascending = <T>(a: T[]): T[] => [...a].reverse();
  const n = schedule.timesteps.length;
  const scheduleValues: Record<string, HostTensor> = {
    timesteps: ids(schedule.timesteps, [n]),
    ddim_timesteps: ids(ascending(schedule.timesteps), [n]),
    ddim_alphas: floats(ascending(schedule.alphas), [n]),
    ddim_alphas_prev: floats(ascending(schedule.alphasPrev), [n]),
    ddim_sigmas: floats(ascending(schedule.sigmas), [n]),
    ddim_sqrt_one_minus_alphas: floats(ascending(schedule.alphas).map((a) => Math.sqrt(1 - a)), [n]),
  };
  for (const [role, value] of Object.entries(scheduleValues)) {
    const name = ctx.case.intermediates?.[role];
    if (typeof name === 'string') produced.set(name, value);
  }
  const finalName = ctx.case.outputs.final_latent ?? ctx.case.intermediates?.final_latent;
  if (typeof finalName === 'string') produced.set(finalName, await toHost(latent));
  const raw = model.decode(latent);
  const image = clamp(mulScalar(addScalar(raw, 1), 0.5), 0, 1);
  if (typeof ctx.case.outputs.image_raw === 'string') produced.set(ctx.case.outputs.image_raw, await toHost(raw));
  if (typeof ctx.case.outputs.image === 'string') produced.set(ctx.case.outputs.image, await toHost(image));
  return raw;
}

const ddimCase: CaseRunner = async (ctx) => {
  const hint = await ctx.input('hint');
  const zerosHint = ctx.case.args?.uncond_hint === 'zeros';
  const inputs = {
    xT: await ctx.input('x_T'),
    hint,
    uncondHint: zerosHint ? zeros(ctx.device, hint.shape) : hint,
    taskFeature: await ctx.input('task_feature'),
    cond: await ctx.input('cond_context'),
    uncond: await ctx.input('uncond_context'),
  };
  const produced: Produced = new Map();
  await ddimOutputs(ctx, inputs, produced);
  return produced;
};

/** Prompt strings to pixels: tokenizer, CLIP, task feature, guided DDIM, VAE, gradio's uint8 conversion. */
const endToEndCase: CaseRunner = async (ctx) => {
  const model = await ctx.model();
  const a = ctx.case.args ?? {};
  const [prompt, aPrompt, nPrompt, instruction] = [a.prompt, a.a_prompt, a.n_prompt, a.instruction].map(String);
  const samples = Number(a.num_samples ?? 1);
  const produced: Produced = new Map();
  const cond = model.encodeText(await tokenIds(ctx, Array(samples).fill(`${prompt}, ${aPrompt}`)));
  const uncond = model.encodeText(await tokenIds(ctx, Array(samples).fill(nPrompt)));
  const taskFeature = model.taskFeature(await tokenIds(ctx, [instruction]));
  const hint = await ctx.input('hint');
  for (const [role, t] of [['cond_context', cond], ['uncond_context', uncond], ['task_feature', taskFeature]] as const) {
    const name = ctx.case.intermediates?.[role];
    if (typeof name === 'string') produced.set(name, await toHost(t));
  }
  const raw = await ddimOutputs(ctx, { xT: await ctx.input('x_T'), hint, uncondHint: hint, taskFeature, cond, uncond }, produced);
  const u8Name = ctx.case.outputs.image_u8_hwc;
  if (typeof u8Name === 'string') {
    produced.set(u8Name, toUint8Hwc(await toHost(raw)));
  }
  return produced;
};

/** Gradio's `(x·127.5 + 127.5).clip(0, 255).astype(uint8)` of a decoded image, NCHW → NHWC (truncating). */
function toUint8Hwc(img: HostTensor): HostTensor {
  const [b, c, h, w] = img.shape;
  const outData = new Uint8Array(b * h * w * c);
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          const v = img.data[((n * c + ch) * h + y) * w + x] * 127.5 + 127.5;
          outData[((n * h + y) * w + x) * c + ch] = Math.trunc(Math.min(255, Math.max(0, v)));
        }
  return { shape: [b, h, w, c], data: outData };
}

/** Runners by the manifest's `kind`. */
export const RUNNERS: Readonly<Record<string, CaseRunner>> = {
  tokenizer: tokenizerCase,
  clip_text: clipCase,
  task_features: taskFeaturesCase,
  controlnet: controlNetCase,
  unet: unetCase,
  apply_model: applyModelCase,
  vae_decode: vaeDecodeCase,
  vae_encode: vaeEncodeCase,
  ddim: ddimCase,
  end_to_end: endToEndCase,
};
