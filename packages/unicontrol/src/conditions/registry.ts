// The built-in preprocessors by name (the task's `preprocessor` field).

import type { RgbaImage } from '../image/index.ts';
import { bboxLike, type BboxOptions } from './bbox.ts';
import { blur, BLUR_DEFAULTS, type BlurOptions } from './blur.ts';
import { canny, CANNY_DEFAULTS, type CannyOptions } from './canny.ts';
import { grayscale } from './grayscale.ts';
import { inpaint, INPAINT_DEFAULTS, type InpaintOptions } from './inpaint.ts';
import { outpaint, OUTPAINT_DEFAULTS, type OutpaintOptions } from './outpaint.ts';

/** A preprocessor: photo (RGBA) and options → condition map (opaque RGBA). */
export interface Preprocessor {
  /** What the map looks like. */
  description: string;
  /** Every option with its default (bbox's `boxes` has none: an empty list draws nothing). */
  defaults: Readonly<Record<string, unknown>>;
  /** Runs it; options are validated (RangeError naming the option). Pure: the input is not changed. */
  run(image: RgbaImage, options?: Record<string, unknown>): { width: number; height: number; data: Uint8Array };
}

export const CONDITIONS: Readonly<Record<string, Preprocessor>> = {
  canny: {
    description:
      'Canny edges: 1-pixel white (255) edges on black, as cv2.Canny(rgb, low, high). A user-made map must ' +
      'look the same; black-on-white line art must be inverted (the official demo does 255 − image).',
    defaults: CANNY_DEFAULTS,
    run: (image, o) => canny(image, o as CannyOptions),
  },
  grayscale: {
    description: 'Colorization input: the photo in gray (Rec. 709 luma, R = G = B).',
    defaults: {},
    run: (image, o) => grayscale(image, o as Record<string, never>),
  },
  blur: {
    description: 'Deblurring input: the photo Gaussian-blurred (kernel size and sigma in pixels).',
    defaults: BLUR_DEFAULTS,
    run: (image, o) => blur(image, o as BlurOptions),
  },
  outpainting: {
    description: 'Outpainting input: the photo with border bands (fractions of each side) set to black.',
    defaults: OUTPAINT_DEFAULTS,
    run: (image, o) => outpaint(image, o as OutpaintOptions),
  },
  inpainting: {
    description: 'Inpainting input: the photo with a rectangle (fractions or pixels) set to black.',
    defaults: INPAINT_DEFAULTS,
    run: (image, o) => inpaint(image, o as InpaintOptions),
  },
  bbox: {
    description: 'Boxes filled with their MS-COCO class colour on black, at the photo\'s size (its pixels unused).',
    defaults: { boxes: [], units: 'fraction' },
    run: (image, o) => bboxLike(image, o as BboxOptions),
  },
};
