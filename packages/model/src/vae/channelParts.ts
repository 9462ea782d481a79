// Activations too big for one storage binding, held as blocks of channels.
//
// At 512 px the decoder's last levels hold [1, 256, 512, 512] activations: 256 MiB in float32,
// twice the 128 MiB that lavapipe and browsers allow one binding. Split along channels at
// GroupNorm group boundaries, every layer stays exact: a convolution sums over input blocks (one
// partial product per block, chained through the residual input), GroupNorm normalises each block
// with its own groups (groups never straddle blocks), upsampling is per channel.

import { BYTES, concat, conv2d, fmt, groupNorm, ShapeError, slice, sliceAxis, upsampleNearest2x, type Tensor } from '@unicontrol/core';
import { NORM_GROUPS } from '../config.ts';
import type { Conv2d, GroupNorm } from '../nn/layers.ts';

/** One `[batch, C, H, W]` activation as consecutive channel blocks (usually a single block). */
export type Parts = readonly Tensor[];

/**
 * The largest block in bytes: the device's storage binding limit, or less (`maxBytes`, which
 * tests use to exercise blocking on small models).
 */
export interface BlockLimit {
  maxBytes?: number;
}

/**
 * Channel counts of the fewest blocks that each fit the limit, each a multiple of the channels
 * per GroupNorm group (C / 32).
 */
export function channelSplit(x: { device: Tensor['device']; dtype: Tensor['dtype'] }, shape: readonly number[], blocks: BlockLimit): number[] {
  const [b, c, h, w] = shape;
  const limit = Math.min(blocks.maxBytes ?? Infinity, x.device.limits.maxStorageBufferBindingSize);
  const perChannel = b * h * w * BYTES[x.dtype];
  // Blocks end on GroupNorm group boundaries; widths that no GroupNorm reads (the 3 image channels) split anywhere.
  const align = c % NORM_GROUPS === 0 ? c / NORM_GROUPS : 1;
  const maxChannels = Math.floor(limit / perChannel / align) * align;
  if (maxChannels < 1) throw new ShapeError(`VAE: activation ${fmt(shape)} ${x.dtype} cannot be split into blocks within the ${limit}-byte binding limit`);
  const out: number[] = [];
  for (let done = 0; done < c; done += maxChannels) out.push(Math.min(maxChannels, c - done));
  return out;
}

const channels = (parts: Parts): number => parts.reduce((n, p) => n + p.shape[1], 0);

/** The activation as one tensor (when it fits one binding). */
export function whole(parts: Parts): Tensor {
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

/** `layer` (a Conv2d) on a blocked activation; output blocked as `channelSplit` says; `residual` blocked the same way. */
export function convParts(layer: Conv2d, x: Parts, blocks: BlockLimit, residual?: Parts): Parts {
  const { weight, bias, geometry } = layer;
  const [outC, inC, kh, kw] = weight.shape;
  if (channels(x) !== inC) throw new ShapeError(`VAE conv: input of ${channels(x)} channels for weight ${fmt(weight.shape)}`);
  const [b, , h, w] = x[0].shape;
  const stride = geometry.stride ?? 1;
  const pad = geometry.padding ?? 0;
  const split = channelSplit(x[0], [b, outC, Math.floor((h + 2 * pad - kh) / stride) + 1, Math.floor((w + 2 * pad - kw) / stride) + 1], blocks);
  if (residual) residual = reblock(residual, split);
  if (x.length === 1 && split.length === 1) return [layer.forward(x[0], { residual: residual?.[0] })];
  // Output block j = Σᵢ conv(x blockᵢ, W[j, i]) + b[j] (+ residual j), accumulated through the epilogue's residual.
  const out: Tensor[] = [];
  let o0 = 0;
  split.forEach((oc, j) => {
    let acc = residual?.[j];
    let c0 = 0;
    x.forEach((part, i) => {
      const ic = part.shape[1];
      const wij = slice(weight, [o0, c0, 0, 0], [o0 + oc, c0 + ic, kh, kw]);
      acc = conv2d(part, wij, { ...geometry, bias: i === 0 ? sliceAxis(bias, 0, o0, o0 + oc) : undefined, residual: acc });
      c0 += ic;
    });
    out.push(acc!);
    o0 += oc;
  });
  return out;
}

/** GroupNorm (+ SiLU) on a blocked activation: each block with its own share of the 32 groups. */
export function normParts(layer: GroupNorm, x: Parts, silu: boolean): Parts {
  if (x.length === 1) return [layer.forward(x[0], { silu })];
  const total = channels(x);
  let c0 = 0;
  return x.map((part) => {
    const c = part.shape[1];
    const out = groupNorm(part, {
      groups: (NORM_GROUPS * c) / total,
      eps: layer.eps,
      weight: sliceAxis(layer.weight, 0, c0, c0 + c),
      bias: sliceAxis(layer.bias, 0, c0, c0 + c),
      silu,
    });
    c0 += c;
    return out;
  });
}

/** The same activation with blocks of `split` channels. */
export function reblock(x: Parts, split: readonly number[]): Parts {
  if (x.map((p) => p.shape[1]).join() === split.join()) return x;
  const joined = whole(x);
  let c0 = 0;
  return split.map((c) => {
    const part = sliceAxis(joined, 1, c0, c0 + c);
    c0 += c;
    return part;
  });
}

/** Nearest 2x upsampling of a blocked activation, re-blocked (at the smaller size) for its 4x size. */
export function upsampleParts(x: Parts, blocks: BlockLimit): Parts {
  const [b, , h, w] = x[0].shape;
  return reblock(x, channelSplit(x[0], [b, channels(x), 2 * h, 2 * w], blocks)).map((p) => upsampleNearest2x(p));
}
