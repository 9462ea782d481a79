// The bbox task's condition: object boxes filled with their class colour on black.

import { checkSize, createImage, type RgbaImage } from '../image/index.ts';
import { COCO_COLORS, UNLABELLED_COLOR } from './cocoColors.ts';
import { checkKeys, checkUnits, type Units } from './options.ts';
import { toPixelRect } from './rect.ts';

/** One box: corners (x0, y0) top-left and (x1, y1) bottom-right (exclusive), and its class. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** An MS-COCO class name (e.g. 'person', 'dog', 'traffic light'); omitted → white. */
  label?: string;
}

export interface BboxOptions {
  /** The boxes, as an array or as its JSON text. */
  boxes?: Box[] | string;
  /** 'fraction' (default): coordinates are fractions of the width/height; 'pixel': pixels. */
  units?: Units;
}

/** Parses and checks a box list (JSON text or array); RangeError naming the bad box. */
export function parseBoxes(boxes: unknown): Box[] {
  let list = boxes;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch (e) {
      throw new RangeError(`bbox: boxes is not valid JSON (${(e as Error).message})`);
    }
  }
  if (!Array.isArray(list)) throw new RangeError('bbox: boxes must be a list like [{ "x0": 0.1, "y0": 0.2, "x1": 0.5, "y1": 0.9, "label": "person" }]');
  return list.map((b: unknown, i): Box => {
    const where = `bbox: boxes[${i}]`;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new RangeError(`${where} must be an object { x0, y0, x1, y1, label? }`);
    checkKeys(where, b, ['x0', 'y0', 'x1', 'y1', 'label']);
    const box = b as Record<string, unknown>;
    for (const k of ['x0', 'y0', 'x1', 'y1']) {
      if (typeof box[k] !== 'number' || !Number.isFinite(box[k])) throw new RangeError(`${where}.${k} must be a finite number, got ${JSON.stringify(box[k])}`);
    }
    const { x0, y0, x1, y1, label } = box as unknown as Box;
    if (x1 < x0 || y1 < y0) throw new RangeError(`${where}: need x0 ≤ x1 and y0 ≤ y1, got (${x0}, ${y0})–(${x1}, ${y1})`);
    if (label !== undefined && (typeof label !== 'string' || !COCO_COLORS[label.toLowerCase()])) {
      throw new RangeError(`${where}.label ${JSON.stringify(label)} is not an MS-COCO class; known: ${Object.keys(COCO_COLORS).join(', ')}`);
    }
    return label === undefined ? { x0, y0, x1, y1 } : { x0, y0, x1, y1, label: label.toLowerCase() };
  });
}

/**
 * A `width`x`height` black image with each box filled in its class colour (COCO_COLORS), larger
 * boxes first so smaller ones stay visible on top, as the official demo draws detections. Boxes
 * are clipped to the image; fractions are scaled by the side and rounded to pixels.
 */
export function bbox(width: number, height: number, options: BboxOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkSize(width, height);
  checkKeys('bbox', options, ['boxes', 'units']);
  const units = checkUnits('bbox', options.units);
  const boxes = parseBoxes(options.boxes ?? []);
  const rects = boxes.map((b) => ({ r: toPixelRect(units, width, height, b), color: b.label ? COCO_COLORS[b.label] : UNLABELLED_COLOR }));
  const area = (r: { x0: number; y0: number; x1: number; y1: number }) => (r.x1 - r.x0) * (r.y1 - r.y0);
  rects.sort((a, b) => area(b.r) - area(a.r));
  const image = createImage(width, height);
  for (const { r, color } of rects) {
    for (let y = r.y0; y < r.y1; y++) {
      for (let x = r.x0; x < r.x1; x++) image.data.set(color, 4 * (y * width + x));
    }
  }
  return image;
}

/** `bbox` at the size of `image` (its pixels are not used): the registry's uniform signature. */
export function bboxLike(image: RgbaImage, options: BboxOptions = {}): { width: number; height: number; data: Uint8Array } {
  return bbox(image.width, image.height, options);
}
