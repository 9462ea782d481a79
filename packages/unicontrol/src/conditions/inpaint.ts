// The inpainting task's condition: the photo with a rectangle blacked out.

import { checkImage, type RgbaImage } from '../image/index.ts';
import { checkKeys, checkNumber, checkUnits, type Units } from './options.ts';
import { toPixelRect } from './rect.ts';

export interface InpaintOptions {
  /** Left edge of the hole. Default 0.25 (fraction units). */
  x?: number;
  /** Top edge of the hole. Default 0.25. */
  y?: number;
  /** Width of the hole. Default 0.5. */
  width?: number;
  /** Height of the hole. Default 0.5. */
  height?: number;
  /** 'fraction' (default): values are fractions of the image's width/height; 'pixel': pixels. */
  units?: Units;
}

/** The official demo's default: its four ratio sliders at 50 mask the central half of each side. */
export const INPAINT_DEFAULTS = { x: 0.25, y: 0.25, width: 0.5, height: 0.5, units: 'fraction' } as const;

/**
 * Sets the rectangle [x, x + width) x [y, y + height) to black (0, alpha 255) and keeps the rest
 * of the photo, as the official Inpainter does. Fractions are scaled by the side and rounded to
 * pixels; the rectangle is clipped to the image.
 */
export function inpaint(image: RgbaImage, options: InpaintOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkKeys('inpainting', options, ['x', 'y', 'width', 'height', 'units']);
  const units = checkUnits('inpainting', options.units);
  const rule = units === 'fraction' ? { min: 0, max: 1 } : { min: 0, integer: true };
  if (units === 'pixel') {
    // Fraction defaults mean nothing in pixels.
    for (const name of ['x', 'y', 'width', 'height'] as const) {
      if (options[name] === undefined) throw new RangeError(`inpainting: ${name} is required with units 'pixel'`);
    }
  }
  const v = (name: 'x' | 'y' | 'width' | 'height') => checkNumber('inpainting', name, options[name], INPAINT_DEFAULTS[name], rule);
  const [x, y, width, height] = [v('x'), v('y'), v('width'), v('height')];
  const r = toPixelRect(units, image.width, image.height, { x0: x, y0: y, x1: x + width, y1: y + height });
  const out = Uint8Array.from(image.data);
  for (let py = 0; py < image.height; py++) {
    for (let px = 0; px < image.width; px++) {
      const o = 4 * (py * image.width + px);
      if (py >= r.y0 && py < r.y1 && px >= r.x0 && px < r.x1) out[o] = out[o + 1] = out[o + 2] = 0;
      out[o + 3] = 255;
    }
  }
  return { width: image.width, height: image.height, data: out };
}
