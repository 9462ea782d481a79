// Opening a UniControl checkpoint: infer its configuration, check every key and shape against
// what that configuration needs (before any GPU work), then stream the tensors to the GPU.

import { loadTensor, loadTensorSplit, type Device, type FloatStorage, type SafetensorsReader } from '@unicontrol/core';
import type { UniControlConfig, UnrevealedConfig } from '../config.ts';
import { checkKeys } from './checkKeys.ts';
import { CheckpointError, describeKeyReport, keyReportClean, type KeyReport } from './checkpointError.ts';
import { expectedKeys } from './expectedKeys.ts';
import { checkGroups, inferConfig } from './inferConfig.ts';
import { POSITION_IDS, PREFIX, SCHEDULE_BUFFERS } from './prefixes.ts';
import { Weights } from './weights.ts';

/** What a checkpoint holds, found from its header alone. */
export interface CheckpointInspection {
  config: UniControlConfig;
  report: KeyReport;
  /** Parameter counts per model part (by key prefix) and for the schedule buffers. */
  parameters: Record<'unet' | 'controlNet' | 'vae' | 'clip' | 'other', number>;
  /** The file's dtypes and how many tensors have each. */
  dtypes: Record<string, number>;
}

/**
 * Infers the configuration of the checkpoint behind `reader` and compares its keys with it.
 * Throws `CheckpointError` when the sizes cannot be read off the file at all (a key the inference
 * needs is absent, e.g. a file of another model); key problems are returned in `report`.
 */
export function inspectCheckpoint(reader: SafetensorsReader, settings: Partial<UnrevealedConfig> = {}): CheckpointInspection {
  const shapes = new Map(reader.tensors.map((t) => [t.name, t.shape]));
  let config: UniControlConfig;
  try {
    config = inferConfig(shapes, settings);
    checkGroups(config);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${reader.where}: not a loadable UniControl checkpoint: ${e.message}`);
    throw e;
  }
  const report = checkKeys(reader.tensors, expectedKeys(config));
  const parameters = { unet: 0, controlNet: 0, vae: 0, clip: 0, other: 0 };
  const dtypes: Record<string, number> = {};
  for (const t of reader.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const part = (Object.keys(PREFIX) as (keyof typeof PREFIX)[]).find((p) => t.name.startsWith(PREFIX[p])) ?? 'other';
    parameters[part] += n;
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
  }
  return { config, report, parameters, dtypes };
}

/** Options of `loadCheckpoint`. */
export interface LoadCheckpointOptions {
  /** GPU storage of the parameters (default 'f32'; 'f16' halves memory, needs `shader-f16`). */
  dtype?: FloatStorage;
  /** Refuse a file with keys the model does not use (default true). */
  strict?: boolean;
  /** The settings the weights cannot reveal (heads, eps, version); defaults are the real model's. */
  settings?: Partial<UnrevealedConfig>;
  /** Called after each tensor is on the GPU. */
  onProgress?: (progress: { loadedBytes: number; totalBytes: number; key: string }) => void;
}

/** A checkpoint's parameters on the GPU and its schedule on the CPU. */
export interface LoadedCheckpoint {
  config: UniControlConfig;
  weights: Weights;
  /** The `LatentDiffusion` schedule buffers the file holds, as float32. */
  schedule: Partial<Record<(typeof SCHEDULE_BUFFERS)[number], Float32Array>>;
  /** Keys present in the file but unused (only when `strict` is false). */
  unexpected: string[];
}

/**
 * Loads a UniControl checkpoint (the official `ControlLDM.state_dict()` layout) onto `device`,
 * tensor by tensor through bounded chunks. Key problems are reported together, by name, before
 * anything is uploaded (`CheckpointError` with `report`).
 */
export async function loadCheckpoint(device: Device, reader: SafetensorsReader, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const { dtype = 'f32', strict = true } = options;
  const { config, report } = inspectCheckpoint(reader, options.settings);
  if (!keyReportClean(report, strict)) {
    throw new CheckpointError(`${reader.where}: not a loadable UniControl checkpoint:\n${describeKeyReport(report).join('\n')}`, report);
  }
  device.checkDType('loadCheckpoint', dtype);
  const expected = expectedKeys(config);
  const scheduleNames = new Set<string>(SCHEDULE_BUFFERS);
  const modelKeys = [...expected.keys()].filter((k) => !scheduleNames.has(k) && k !== POSITION_IDS);
  const totalBytes = modelKeys.reduce((n, k) => n + reader.get(k).byteLength, 0);
  const weights = new Weights();
  const schedule: LoadedCheckpoint['schedule'] = {};
  let loadedBytes = 0;
  try {
    for (const key of modelKeys) {
      weights.set(key, await loadTensorSplit(device, reader, key, { dtype }));
      loadedBytes += reader.get(key).byteLength;
      options.onProgress?.({ loadedBytes, totalBytes, key });
    }
    for (const name of SCHEDULE_BUFFERS) {
      const t = await loadTensor(device, reader, name, { dtype: 'f32' });
      try {
        schedule[name] = (await t.read()) as Float32Array;
      } finally {
        t.dispose();
      }
    }
  } catch (e) {
    weights.dispose();
    throw e;
  }
  return { config, weights, schedule, unexpected: report.unexpected };
}
