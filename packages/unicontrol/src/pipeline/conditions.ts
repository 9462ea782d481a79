// Turning the user's conditions into hint tensors: preprocess photos, resize to the output size
// (bilinear for continuous maps, nearest for label maps), scale to [0, 1].

import { tensor, type Device, type Tensor } from '@unicontrol/core';
import { CONDITIONS } from '../conditions/index.ts';
import { DEFAULT_MAX_PIXELS, flattenAlpha, resizeBilinear, resizeNearest, toHintTensor } from '../image/index.ts';
import { taskInfo, type TaskInfo } from '../tasks.ts';
import { OptionError, type ConditionSpec, type RgbaImage } from './options.ts';

/** A condition ready for the model: its task, its map at the output size, and its weight. */
export interface PreparedCondition {
  task: TaskInfo;
  map: RgbaImage;
  weight: number;
}

/**
 * Largest condition map or photo, in pixels: the PNG decoder's default budget (4096·4096). The
 * preprocessors and resizing hold several float planes of the input (about 40 bytes per pixel,
 * 670 MB at this size), so a bigger input is refused before any of that is allocated.
 */
export const MAX_INPUT_PIXELS = DEFAULT_MAX_PIXELS;

function checkImage(option: string, img: RgbaImage | undefined): RgbaImage | undefined {
  if (img === undefined) return undefined;
  const ok = img !== null && typeof img === 'object' && Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0;
  if (!ok || !img.data || img.data.length !== img.width * img.height * 4) {
    throw new OptionError(`${option} must be an RGBA image { width, height, data } with width·height·4 bytes`);
  }
  if (img.width * img.height > MAX_INPUT_PIXELS) {
    throw new OptionError(`${option} is ${img.width}x${img.height} = ${img.width * img.height} pixels, over the limit of ${MAX_INPUT_PIXELS} (4096x4096); downscale it first`);
  }
  return img;
}

/** Checks one spec's task and images (cheap, no preprocessing); returns its task and images. */
export function checkConditionSpec(spec: ConditionSpec, where: string): { task: TaskInfo; condition?: RgbaImage; image?: RgbaImage } {
  if (spec === null || typeof spec !== 'object') throw new OptionError(`${where} must be an object { task, condition | image }`);
  if (typeof spec.task !== 'string') throw new OptionError(`${where}.task must be a task name (see 'unicontrol tasks'), got ${String(spec.task)}`);
  const task = taskInfo(spec.task);
  const condition = checkImage(`${where}.condition`, spec.condition);
  const image = checkImage(`${where}.image`, spec.image);
  if (condition && image) throw new OptionError(`${where}: give either condition or image, not both`);
  if (!condition && !image) throw new OptionError(`${where}: task ${task.name} needs a condition map (condition) or a photo (image)`);
  if (image && !task.preprocessor) {
    throw new OptionError(`${where}: task ${task.name} has no built-in preprocessor; pass its condition map (${task.condition}) as condition`);
  }
  const weight = spec.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw new OptionError(`${where}.weight must be a finite number ≥ 0, got ${String(weight)}`);
  return { task, condition, image };
}

/** The condition map of one spec at its own size: the given map, or the task's preprocessor on the photo. */
export function conditionMap(spec: ConditionSpec, where: string): { task: TaskInfo; map: RgbaImage } {
  const { task, condition, image } = checkConditionSpec(spec, where);
  // Transparent pixels over white, as the official app's HWC3 does with RGBA inputs.
  if (condition) return { task, map: flattenAlpha(condition) };
  // checkConditionSpec guarantees an image and a preprocessor here.
  return { task, map: CONDITIONS[task.preprocessor!].run(flattenAlpha(image!), spec.preprocess ?? {}) };
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
