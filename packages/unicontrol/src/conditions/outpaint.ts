// The outpainting task's condition: the photo with its borders blacked out.

import { checkImage, type RgbaImage } from '../image/index.ts';
import { checkKeys, checkNumber } from './options.ts';

export interface OutpaintOptions {
  /** Fraction of the height masked at the top, in [0, 1). Default 0.25. */
  top?: number;
  /** Fraction of the height masked at the bottom. Default 0.25. */
  bottom?: number;
  /** Fraction of the width masked on the left. Default 0.25. */
  left?: number;
  /** Fraction of the width masked on the right. Default 0.25. */
  right?: number;
}

/** The official demo's default: keep the central 50% of each side (its ratio sliders at 50). */
export const OUTPAINT_DEFAULTS = { top: 0.25, bottom: 0.25, left: 0.25, right: 0.25 } as const;

/**
 * Sets the border bands to black (0, alpha 255), keeping the photo inside, as the official
 * Outpainter does (it keeps a centred window of `ratio`% of each side; top = bottom =
 * (1 − ratio/100) / 2 reproduces it). Band widths are the fractions times the side, rounded to
 * whole pixels; what is kept must be non-empty (top + bottom < 1, left + right < 1).
 */
export function outpaint(image: RgbaImage, options: OutpaintOptions = {}): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkKeys('outpainting', options, ['top', 'bottom', 'left', 'right']);
  const f = (name: keyof OutpaintOptions) => checkNumber('outpainting', name, options[name], OUTPAINT_DEFAULTS[name], { min: 0, below: 1 });
  const [top, bottom, left, right] = [f('top'), f('bottom'), f('left'), f('right')];
  if (top + bottom >= 1) throw new RangeError(`outpainting: top + bottom must be < 1 (something must stay), got ${top} + ${bottom}`);
  if (left + right >= 1) throw new RangeError(`outpainting: left + right must be < 1 (something must stay), got ${left} + ${right}`);
  const { width: w, height: h, data } = image;
  const y0 = Math.round(top * h);
  const y1 = h - Math.round(bottom * h);
  const x0 = Math.round(left * w);
  const x1 = w - Math.round(right * w);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 4 * (y * w + x);
      if (y >= y0 && y < y1 && x >= x0 && x < x1) {
        out[o] = data[o];
        out[o + 1] = data[o + 1];
        out[o + 2] = data[o + 2];
      }
      out[o + 3] = 255;
    }
  }
  return { width: w, height: h, data: out };
}
