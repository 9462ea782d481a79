// Checkpoint inspection and loading: sizes read off the shapes, every key checked against the
// official layout before any GPU work, problems reported by name.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesSource, createDevice, openSafetensors, type Device } from '@unicontrol/core';
import { writeSafetensors } from '../../core/test/safetensors-writer.ts';
import { CheckpointError, expectedKeys, inferConfig, inspectCheckpoint, loadCheckpoint } from '../src/index.ts';

const SHARED = fileURLToPath(new URL('../../../../shared/fixtures/tiny/', import.meta.url));
const HAVE_SHARED = existsSync(`${SHARED}model.safetensors`) && existsSync(`${SHARED}real_keys.json`);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${SHARED} is missing (CI is set, so these tests fail rather than skip)`);

interface Entry {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** Splits a safetensors file into its entries (test-side, independent of the library's reader). */
function parse(bytes: Uint8Array): Map<string, Entry> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, Entry>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    out.set(name, { dtype: e.dtype, shape: e.shape, data: bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  }
  return out;
}

/** Writes entries back into safetensors bytes. */
function serialize(entries: Map<string, Entry>): Uint8Array {
  return writeSafetensors([...entries].map(([name, e]) => ({ name, dtype: e.dtype, shape: e.shape, data: e.data })));
}

describe.skipIf(!HAVE_SHARED)('checkpoint layout', () => {
  it("infers the real model's sizes from real_keys.json and expects exactly its 1594 keys and shapes", () => {
    const real = JSON.parse(readFileSync(`${SHARED}real_keys.json`, 'utf8')) as { keys: { name: string; shape: number[] }[] };
    const config = inferConfig(new Map(real.keys.map((k) => [k.name, k.shape])));
    expect(config.unet).toMatchObject({ modelChannels: 320, channelMult: [1, 2, 4, 4], numResBlocks: 2, attentionLevels: [true, true, true, false], contextDim: 768, timeEmbedDim: 1280, numHeads: 8 });
    expect(config.clip).toMatchObject({ vocabSize: 49408, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 77 });
    expect(config.vae).toMatchObject({ ch: 128, chMult: [1, 2, 4, 4], numResBlocks: 2, zChannels: 4 });
    expect(config.controlNet).toMatchObject({ numTasks: 13, hintChannels: 3, taskFeatureDim: 768, version: 'v1.1' });
    const expected = expectedKeys(config);
    expect(expected.size).toBe(real.keys.length);
    for (const k of real.keys) expect(expected.get(k.name)?.shape, k.name).toEqual(k.shape);
  });

  it('inspects the tiny checkpoint: clean report, parameter counts per part', async () => {
    const reader = await openSafetensors(`${SHARED}model.safetensors`);
    const info = inspectCheckpoint(reader, { unetHeads: 2, clipHeads: 2 });
    await reader.close();
    expect(info.report).toEqual({ missing: [], unexpected: [], misshaped: [], wrongDType: [] });
    const manifest = JSON.parse(readFileSync(`${SHARED}manifest.json`, 'utf8')) as { weights: { num_params: number } };
    expect(Object.values(info.parameters).reduce((a, b) => a + b, 0)).toBe(manifest.weights.num_params);
    expect(info.config.unet.channelMult).toEqual([1, 2]);
    expect(info.dtypes).toEqual({ F32: 763, I64: 1 });
  });
});

describe.skipIf(!HAVE_SHARED)('loading refuses broken checkpoints before any GPU work', () => {
  let device: Device;
  let tiny: Map<string, Entry>;
  beforeAll(async () => {
    device = await createDevice();
    tiny = parse(new Uint8Array(readFileSync(`${SHARED}model.safetensors`)));
  });
  afterAll(() => device?.destroy());

  async function load(entries: Map<string, Entry>, options: Parameters<typeof loadCheckpoint>[2] = {}) {
    const reader = await openSafetensors(bytesSource(serialize(entries), 'edited.safetensors'));
    return loadCheckpoint(device, reader, { settings: { unetHeads: 2, clipHeads: 2 }, ...options });
  }

  it('names missing, unexpected and mis-shaped keys together', async () => {
    const edited = new Map(tiny);
    edited.delete('control_model.zero_convs.1.0.weight');
    edited.delete('first_stage_model.decoder.conv_out.bias');
    const w = edited.get('model.diffusion_model.out.2.weight')!;
    edited.set('model.diffusion_model.out.2.weight', { ...w, shape: [4, 32, 9] });
    edited.set('model_ema.decay', { dtype: 'F32', shape: [], data: new Uint8Array(4) });
    const before = device.memory().liveBytes;
    const err = await load(edited).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    const report = (err as CheckpointError).report!;
    expect(report.missing).toEqual(['control_model.zero_convs.1.0.weight', 'first_stage_model.decoder.conv_out.bias']);
    expect(report.unexpected).toEqual(['model_ema.decay']);
    expect(report.misshaped).toEqual([{ name: 'model.diffusion_model.out.2.weight', expected: [4, 32, 3, 3], got: [4, 32, 9] }]);
    expect((err as Error).message).toContain('edited.safetensors: not a loadable UniControl checkpoint');
    expect((err as Error).message).toContain('model.diffusion_model.out.2.weight: expected [4, 32, 3, 3], file has [4, 32, 9]');
    expect(device.memory().liveBytes).toBe(before);
  });

  it('accepts unexpected keys when not strict, and a file without position_ids', async () => {
    const edited = new Map(tiny);
    edited.delete('cond_stage_model.transformer.text_model.embeddings.position_ids');
    edited.set('model_ema.decay', { dtype: 'F32', shape: [], data: new Uint8Array(4) });
    const loaded = await load(edited, { strict: false });
    expect(loaded.unexpected).toEqual(['model_ema.decay']);
    expect(loaded.schedule.alphas_cumprod?.length).toBe(1000);
    loaded.weights.dispose();
  });

  it('says which part is absent for a file of another model', async () => {
    const unetOnly = new Map([...tiny].filter(([k]) => !k.startsWith('control_model.')));
    await expect(load(unetOnly)).rejects.toThrow(/not a loadable UniControl checkpoint: missing key control_model\.input_blocks\.0\.0\.weight/);
    const controlOnly = new Map([...tiny].filter(([k]) => k.startsWith('control_model.')));
    await expect(load(controlOnly)).rejects.toThrow(/missing key model\.diffusion_model\.input_blocks\.0\.0\.weight/);
  });

  it('refuses an integer weight', async () => {
    const edited = new Map(tiny);
    const b = edited.get('model.diffusion_model.out.2.bias')!;
    edited.set('model.diffusion_model.out.2.bias', { ...b, dtype: 'I32' });
    const err = (await load(edited).catch((e: unknown) => e)) as CheckpointError;
    expect(err.report?.wrongDType).toEqual([{ name: 'model.diffusion_model.out.2.bias', expected: 'a float type', got: 'I32' }]);
  });

  it('loads float16 storage from the float32 file, freeing nothing it should keep', async () => {
    const before = device.memory();
    const loaded = await load(tiny, { dtype: 'f16' });
    const w = loaded.weights.get('model.diffusion_model.out.2.weight');
    expect(w.dtype).toBe('f16');
    expect(loaded.weights.bytes).toBeGreaterThan(0);
    loaded.weights.dispose();
    expect(device.memory().liveBytes).toBe(before.liveBytes);
  });
});
