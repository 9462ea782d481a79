// Turning the user's conditions into hint tensors: preprocess photos, resize to the output size
// (bilinear for continuous maps, nearest for label maps), scale to [0, 1].

import { tensor, type Device, type Tensor } from '@unicontrol/core';
import { CONDITIONS } from '../conditions/index.ts';
import { flattenAlpha, resizeBilinear, resizeNearest, toHintTensor } from '../image/index.ts';
import { taskInfo, type TaskInfo } from '../tasks.ts';
import { OptionError, type ConditionSpec, type RgbaImage } from './options.ts';

/** A condition ready for the model: its task, its map at the output size, and its weight. */
export interface PreparedCondition {
  task: TaskInfo;
  map: RgbaImage;
  weight: number;
}

function checkImage(option: string, img: RgbaImage | undefined): RgbaImage | undefined {
  if (img === undefined) return undefined;
  const ok = img !== null && typeof img === 'object' && Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0;
  if (!ok || !img.data || img.data.length !== img.width * img.height * 4) {
    throw new OptionError(`${option} must be an RGBA image { width, height, data } with width·height·4 bytes`);
  }
  return img;
}

/** The condition map of one spec at its own size: the given map, or the task's preprocessor on the photo. */
export function conditionMap(spec: ConditionSpec, where: string): { task: TaskInfo; map: RgbaImage } {
  const task = taskInfo(spec.task);
  const condition = checkImage(`${where}.condition`, spec.condition);
  const image = checkImage(`${where}.image`, spec.image);
  if (condition && image) throw new OptionError(`${where}: give either condition or image, not both`);
  // Transparent pixels over white, as the official app's HWC3 does with RGBA inputs.
  if (condition) return { task, map: flattenAlpha(condition) };
  if (!image) throw new OptionError(`${where}: task ${task.name} needs a condition map (condition) or a photo (image)`);
  if (!task.preprocessor) {
    throw new OptionError(`${where}: task ${task.name} has no built-in preprocessor; pass its condition map (${task.condition}) as condition`);
  }
  return { task, map: CONDITIONS[task.preprocessor].run(flattenAlpha(image), spec.preprocess ?? {}) };
}

/** Resizes a condition map to the output size with the resampling its kind needs. */
export function fitCondition(c: { task: TaskInfo; map: RgbaImage }, width: number, height: number): RgbaImage {
  const { map } = c;
  if (map.width === width && map.height === height) return map;
  return c.task.kind === 'labels' ? resizeNearest(map, width, height) : resizeBilinear(map, width, height);
}

/** `[samples, 3, H, W]` hint tensor, pixel / 255, as the official demo feeds it. */
export function hintTensor(device: Device, map: RgbaImage, samples: number): Tensor {
  const one = toHintTensor(map);
  const all = new Float32Array(samples * one.data.length);
  for (let s = 0; s < samples; s++) all.set(one.data, s * one.data.length);
  return tensor(device, all, [samples, ...one.shape.slice(1)]);
}
