// Rectangles given in fractions of the image or in pixels, turned into clipped pixel bounds.

import type { Units } from './options.ts';

/** Half-open pixel bounds [x0, x1) x [y0, y1), inside the image (possibly empty). */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Converts corners to pixel bounds: fractions are multiplied by the side and rounded, pixels are
 * rounded; both are then clipped to the image.
 */
export function toPixelRect(units: Units, width: number, height: number, c: { x0: number; y0: number; x1: number; y1: number }): PixelRect {
  const sx = units === 'fraction' ? width : 1;
  const sy = units === 'fraction' ? height : 1;
  const clip = (v: number, n: number) => Math.min(Math.max(v, 0), n);
  return {
    x0: clip(Math.round(c.x0 * sx), width),
    y0: clip(Math.round(c.y0 * sy), height),
    x1: clip(Math.round(c.x1 * sx), width),
    y1: clip(Math.round(c.y1 * sy), height),
  };
}
