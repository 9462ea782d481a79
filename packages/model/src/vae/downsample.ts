import { concat, conv2d, zeros, type Tensor } from '@unicontrol/core';
import type { WeightScope } from '../weights/weights.ts';

/**
 * The encoder's Downsample: zero-pad one row at the bottom and one column at the right (ldm pads
 * (0, 1, 0, 1)), then a 3x3 conv with stride 2 and no padding: output (i, j) sees input rows
 * 2i…2i+2 and columns 2j…2j+2.
 *
 * conv2d pads symmetrically only. A 3x3 conv with padding 1 sees rows 2i−1…2i+1, one row too
 * early, and no slicing of its output can fix that (the shift is one input pixel, half an output
 * pixel). Instead the 3x3 kernel is embedded in a 4x4 one whose first row and column are zero,
 * run with stride 2 and padding 1: it sees rows 2i−1…2i+2, the first with weight 0, so the
 * sum is exactly the reference's (the extra terms are exact zeros), the last output row reads
 * the bottom padding just as the reference does, and the output size, ⌊(H − 2)/2⌋ + 1, is the
 * same. Unlike a zero-padded copy of the input, it needs no extra activation-sized buffer (a
 * 513x513 copy of a 128-channel 512 px image would not fit a 128 MiB binding in f32); the cost is
 * 16/9 the multiply-adds on three convs and a weight-sized copy per call.
 */
export class Downsample {
  private readonly weight: Tensor;
  private readonly bias: Tensor;

  constructor(w: WeightScope) {
    this.weight = w.get('conv.weight');
    this.bias = w.get('conv.bias');
  }

  /** `x` `[batch, C, H, W]` → `[batch, C, ⌊H/2⌋, ⌊W/2⌋]`. */
  forward(x: Tensor): Tensor {
    const [out, inC] = this.weight.shape;
    const { device, dtype } = this.weight;
    const left = concat([zeros(device, [out, inC, 3, 1], dtype), this.weight], 3);
    const kernel = concat([zeros(device, [out, inC, 1, 4], dtype), left], 2);
    return conv2d(x, kernel, { bias: this.bias, stride: 2, padding: 1 });
  }
}
