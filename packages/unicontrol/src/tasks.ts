// What each UniControl task expects as its condition, and which built-in preprocessor makes it.

import { TASKS, type TaskName } from '@unicontrol/model';

/**
 * How a condition map is resampled: bilinear for continuous maps, nearest for label maps (seg and
 * openpose, as the official app; it resizes bbox maps bilinearly).
 */
export type ConditionKind = 'continuous' | 'labels';

/** One task of the model. */
export interface TaskInfo {
  name: TaskName;
  /** The instruction whose CLIP feature steers the HyperNet (the official `mapping_task`). */
  instruction: string;
  kind: ConditionKind;
  /** The built-in preprocessor that turns a photo into this task's condition, if any. */
  preprocessor?: string;
  /** What the condition map looks like. */
  condition: string;
}

const DETAILS: Record<TaskName, Omit<TaskInfo, 'name' | 'instruction'>> = {
  control_hed: { kind: 'continuous', condition: 'HED soft edges: white, anti-aliased edge strokes on black (0–255 gray)' },
  control_canny: { kind: 'continuous', preprocessor: 'canny', condition: 'Canny edges: 1-pixel white edges on black (0 or 255)' },
  control_seg: { kind: 'labels', condition: 'semantic segmentation in the ADE20K palette (flat colour per class)' },
  control_depth: { kind: 'continuous', condition: 'MiDaS relative inverse depth: near is white, far is black (0–255 gray)' },
  control_normal: { kind: 'continuous', condition: 'surface normals encoded as RGB (ControlNet/MiDaS normal map, 0–255 per channel)' },
  control_openpose: { kind: 'labels', condition: 'OpenPose skeleton: coloured limbs and joints drawn on black' },
  control_img: { kind: 'continuous', condition: 'the image to edit itself (RGB photo)' },
  control_hedsketch: { kind: 'continuous', condition: 'sketch: dark strokes (about 50) on white (0–255 gray)' },
  control_bbox: { kind: 'continuous', preprocessor: 'bbox', condition: 'bounding boxes filled with their COCO class colour on black (larger boxes first)' },
  control_outpainting: { kind: 'continuous', preprocessor: 'outpainting', condition: 'the photo with the regions to fill set to black' },
  control_grayscale: { kind: 'continuous', preprocessor: 'grayscale', condition: 'a grayscale photo (gray in all three channels)' },
  control_blur: { kind: 'continuous', preprocessor: 'blur', condition: 'a Gaussian-blurred photo' },
  control_inpainting: { kind: 'continuous', preprocessor: 'inpainting', condition: 'the photo with the rectangle to fill set to black' },
};

/** Every task, in the order of the model's hint adapters. */
export const TASK_INFO: readonly TaskInfo[] = TASKS.map(([name, instruction]) => ({ name, instruction, ...DETAILS[name] }));

/** The task called `name` (with or without the `control_` prefix); throws listing the tasks. */
export function taskInfo(name: string): TaskInfo {
  const full = name.startsWith('control_') ? name : `control_${name}`;
  const info = TASK_INFO.find((t) => t.name === full);
  if (!info) throw new RangeError(`unknown task ${JSON.stringify(name)}: expected one of ${TASK_INFO.map((t) => t.name.slice('control_'.length)).join(', ')}`);
  return info;
}
