// The colorization task's condition: the photo in gray.

import { checkImage, type RgbaImage } from '../image/index.ts';
import { grayMap } from './grayMap.ts';
import { checkKeys } from './options.ts';

/**
 * Gray version of the RGB channels (alpha ignored), as the official GrayscaleConverter does with
 * scikit-image: `(rgb2gray(img) * 255).astype(uint8)`, i.e. float64 luminance with Rec. 709
 * weights 0.2125 R + 0.7154 G + 0.0721 B on values / 255, summed in that order, times 255,
 * truncated toward zero. Bit-exact with scikit-image 0.19 on x86. Gray in R, G and B; alpha 255.
 */
export function grayscale(image: RgbaImage, options: Record<string, never> = {}): { width: number; height: number; data: Uint8Array } {
  checkImage(image);
  checkKeys('grayscale', options, []);
  const { width, height, data } = image;
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const y = (data[4 * i] / 255) * 0.2125 + (data[4 * i + 1] / 255) * 0.7154 + (data[4 * i + 2] / 255) * 0.0721;
    gray[i] = Math.trunc(y * 255);
  }
  return grayMap(width, height, gray);
}
