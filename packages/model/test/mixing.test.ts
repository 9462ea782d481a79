// Multi-condition control on the tiny oracle model: several conditions mix their task adapters'
// features by weight; weights (1, 0, …) are exactly the single task. A control prepared once
// (the hint path and HyperNet scales) is exactly the control recomputed, and so is a text context
// prepared once (every cross-attention layer's keys and values).

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, createDevice, openSafetensors, tensor, type Device, type Tensor } from '@unicontrol/core';
import { UniControlModel, type Control, type ControlConditions, type PreparedContext } from '../src/index.ts';

const TINY = fileURLToPath(new URL('../../../../shared/fixtures/tiny/', import.meta.url));
const HAVE_SHARED = existsSync(`${TINY}model.safetensors`) && existsSync(`${TINY}golden.safetensors`);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${TINY} is missing (CI is set, so these tests fail rather than skip)`);

describe.skipIf(!HAVE_SHARED)('multi-condition control (tiny model)', () => {
  let device: Device;
  let model: UniControlModel;
  const inputs: Record<string, Tensor> = {};
  beforeAll(async () => {
    device = await createDevice();
    model = await UniControlModel.load(device, `${TINY}model.safetensors`, { settings: { unetHeads: 2, clipHeads: 2 } });
    const golden = await openSafetensors(`${TINY}golden.safetensors`);
    for (const name of ['cn.canny.x', 'cn.canny.t', 'cn.canny.context', 'cn.canny.hint', 'cn.canny.task_feature', 'cn.seg.hint']) {
      const e = golden.get(name);
      const b = await golden.read(name);
      const data = e.dtype === 'I32' ? Float32Array.from(new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))) : new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      inputs[name] = tensor(device, data, [...e.shape]).keep();
    }
    await golden.close();
  });
  afterAll(() => {
    model?.dispose();
    device?.destroy();
  });

  const run = async (control: ControlConditions, probeName?: string): Promise<{ eps: Float32Array; probe?: Float32Array }> => {
    let probed: Tensor | undefined;
    const eps = model.applyModel(inputs['cn.canny.x'], inputs['cn.canny.t'], inputs['cn.canny.context'], { ...control, taskFeature: inputs['cn.canny.task_feature'] } as Control, {
      probe: (name, t) => {
        if (name === probeName) probed = t.keep();
      },
    });
    return { eps: (await eps.read()) as Float32Array, probe: probed ? ((await probed.read()) as Float32Array) : undefined };
  };

  it('weights (1, 0) reproduce the single task exactly', async () => {
    const single = await run({ hint: inputs['cn.canny.hint'], task: 'control_canny' });
    const mixed = await run({
      adapters: [
        { hint: inputs['cn.canny.hint'], task: 'control_canny', weight: 1 },
        { hint: inputs['cn.seg.hint'], task: 'control_seg', weight: 0 },
      ],
    });
    expect(mixed.eps).toEqual(single.eps);
  });

  it('mixes the adapters’ features as a weighted average', async () => {
    const a = await run({ hint: inputs['cn.canny.hint'], task: 'control_canny' }, 'hint_moe_out');
    const b = await run({ hint: inputs['cn.seg.hint'], task: 'control_seg' }, 'hint_moe_out');
    const mixed = await run(
      {
        adapters: [
          { hint: inputs['cn.canny.hint'], task: 'control_canny', weight: 1 },
          { hint: inputs['cn.seg.hint'], task: 'control_seg', weight: 3 },
        ],
      },
      'hint_moe_out',
    );
    let err = 0;
    for (let i = 0; i < a.probe!.length; i++) err = Math.max(err, Math.abs(mixed.probe![i] - (0.25 * a.probe![i] + 0.75 * b.probe![i])));
    expect(err).toBeLessThan(1e-6);
    expect(mixed.eps).not.toEqual(a.eps);
  });

  it('prepared once, a control gives the same ε at every timestep as recomputing it', async () => {
    const control: Control = { hint: inputs['cn.canny.hint'], task: 'control_canny', taskFeature: inputs['cn.canny.task_feature'], scales: [0.5, 1, 2, 1, 1.5] };
    const [x, context] = [inputs['cn.canny.x'], inputs['cn.canny.context']];
    const batch = x.shape[0];
    const prepared = model.prepareControl(control, batch);
    for (const step of [1, 500]) {
      const t = tensor(device, new Float32Array(batch).fill(step), [batch]);
      const want = (await model.applyModel(x, t, context, control).read()) as Float32Array;
      const got = (await model.applyModel(x, t, context, prepared).read()) as Float32Array;
      expect(got).toEqual(want);
    }
    const doubled = concat([x, x], 0);
    expect(() => model.applyModel(doubled, tensor(device, new Float32Array(2 * batch).fill(1), [2 * batch]), concat([context, context], 0), prepared)).toThrow(
      `ControlNet: the condition was prepared for a batch of ${batch}, the latents [${doubled.shape.join(', ')}] have ${2 * batch}`,
    );
    prepared.dispose();
  });

  it('prepared once, a text context gives the same ε without its keys and values at every step', async () => {
    const control: Control = { hint: inputs['cn.canny.hint'], task: 'control_canny', taskFeature: inputs['cn.canny.task_feature'] };
    const [x, t, context] = [inputs['cn.canny.x'], inputs['cn.canny.t'], inputs['cn.canny.context']];
    const prepared = model.prepareContext(context);
    const counted = async (c: Tensor | PreparedContext): Promise<{ eps: Float32Array; flops: number; dispatches: number }> => {
      device.resetCounters();
      const eps = model.applyModel(x, t, c, control);
      const { flops, dispatches } = device.counters();
      return { eps: (await eps.read()) as Float32Array, flops, dispatches };
    };
    const want = await counted(context);
    const got = await counted(prepared);
    expect(got.eps).toEqual(want.eps);
    // What preparing saves, from the configuration: to_k and to_v of every transformer block that
    // reads the text (UNet: numResBlocks per attention level down, one more up, the middle;
    // ControlNet: down and middle), each 2 · batch · tokens · contextDim · channels FLOPs.
    const u = model.config.unet;
    const widths = u.channelMult.flatMap((m, level) => (u.attentionLevels[level] ? [m * u.modelChannels] : []));
    const middle = u.modelChannels * u.channelMult[u.channelMult.length - 1];
    const perWidth = 2 * u.numResBlocks + (u.numResBlocks + 1);
    const channels = (widths.reduce((a, c) => a + perWidth * c, 0) + 2 * middle) * u.transformerDepth;
    const [batch, tokens, dim] = context.shape;
    expect(want.flops - got.flops).toBe(2 * 2 * batch * tokens * dim * channels);
    expect(want.dispatches - got.dispatches).toBeGreaterThanOrEqual(2 * prepared.prepared.size);
    expect(prepared.prepared.size).toBe((widths.length * perWidth + 2) * u.transformerDepth);
    // A context for another batch is refused by name, before any work.
    const doubled = concat([x, x], 0);
    expect(() => model.applyModel(doubled, concat([t, t], 0), prepared, control)).toThrow(
      `applyModel: the text context [${context.shape.join(', ')}] must be [batch, tokens, ${dim}] with the batch of the latents [${doubled.shape.join(', ')}]`,
    );
    expect(() => model.prepareContext(context.reshape([context.shape[1], context.shape[2]]))).toThrow(
      `prepareContext: the text context [${context.shape[1]}, ${dim}] must be [batch, tokens, ${dim}]`,
    );
    const live = device.memory().liveBytes;
    prepared.dispose();
    const freed = [...prepared.prepared.values()].reduce((a, kv) => a + kv.keys.bytes + kv.values.bytes, 0);
    expect(live - device.memory().liveBytes).toBeGreaterThanOrEqual(freed);
  });

  it('refuses unknown tasks and bad weights', () => {
    const hint = inputs['cn.canny.hint'];
    const ctl = (c: ControlConditions): Control => ({ ...c, taskFeature: inputs['cn.canny.task_feature'] }) as Control;
    const apply = (c: Control) => model.applyModel(inputs['cn.canny.x'], inputs['cn.canny.t'], inputs['cn.canny.context'], c);
    expect(() => apply(ctl({ hint, task: 'control_magic' as 'control_canny' }))).toThrow(/unknown task "control_magic": expected one of control_hed, control_canny/);
    expect(() => apply(ctl({ adapters: [{ hint, task: 1, weight: 0 }] }))).toThrow(/weights must be finite, ≥ 0 and not all 0/);
    expect(() => apply(ctl({ adapters: [{ hint, task: 1, weight: -1 }, { hint, task: 2, weight: 2 }] }))).toThrow(/weights must be finite/);
  });
});
