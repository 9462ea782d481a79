// Condition map → the model's hint input, on the CPU (the pipeline uploads it).

import { checkImage, type RgbaImage } from './image.ts';

/** A plain float tensor: values and their shape. */
export interface HostTensor {
  data: Float32Array;
  shape: [number, number, number, number];
}

/**
 * The hint the official demo feeds the ControlNet: RGB / 255 in [0, 1], shape `[1, 3, H, W]`
 * (channel-planar, row-major). Alpha is ignored; flatten transparent images first (`flattenAlpha`).
 */
export function toHintTensor(image: RgbaImage): HostTensor {
  checkImage(image);
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[4 * i] / 255;
    out[plane + i] = data[4 * i + 1] / 255;
    out[2 * plane + i] = data[4 * i + 2] / 255;
  }
  return { data: out, shape: [1, 3, height, width] };
}
