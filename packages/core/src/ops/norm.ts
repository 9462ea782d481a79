import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { defineVariants, pickVariant } from '../variants.ts';
import { checkInputs, checkSameDType } from './check.ts';

/**
 * Kernels of `groupNorm` and `layerNorm` (both shaders/norm.wgsl, one dispatch): `workgroup`
 * gives each normalised segment a workgroup (few large segments: GroupNorm); `thread` gives each
 * segment one invocation and needs no barriers (many small segments: LayerNorm rows); `auto`
 * (default) picks by the segment count and size.
 */
export const NORM_VARIANTS = defineVariants('groupNorm', ['auto', 'workgroup', 'thread'] as const);
defineVariants('layerNorm', NORM_VARIANTS);

/** Threads per workgroup of shaders/norm.wgsl (16–64 measured alike on lavapipe; 256 was 3× slower). */
const WG = 32;

/** Options of `groupNorm`. */
export interface GroupNormOptions {
  /** Number of groups; must divide the channel count. */
  groups: number;
  /** Added to the variance before the square root (default 1e-5, PyTorch's). */
  eps?: number;
  /** Per-channel scale `[C]`. */
  weight?: Tensor;
  /** Per-channel shift `[C]`. */
  bias?: Tensor;
  /** Apply SiLU, x·sigmoid(x), after the affine (Stable Diffusion's GroupNorm + SiLU pairs). */
  silu?: boolean;
  variant?: string;
}

/** Options of `layerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5, PyTorch's). */
  eps?: number;
  /** Per-feature scale `[D]`. */
  weight?: Tensor;
  /** Per-feature shift `[D]`. */
  bias?: Tensor;
  variant?: string;
}

interface Segments {
  segments: number;
  /** Elements per segment. */
  n: number;
  /** Elements per channel (the affine index advances every `spatial` elements). */
  spatial: number;
  groups: number;
  /** Channels per group. */
  cpg: number;
}

/** Checks an optional affine parameter has shape [channels] and x's dtype. */
function checkAffine(op: string, name: string, x: Tensor, p: Tensor | undefined, channels: number): void {
  if (!p) return;
  checkInputs(op, [x, p]);
  checkSameDType(op, [x, p]);
  if (p.rank !== 1 || p.shape[0] !== channels) {
    throw new ShapeError(`${op}: ${name} must have shape [${channels}] for x ${fmt(x.shape)}, got ${fmt(p.shape)}`);
  }
}

interface Affine {
  eps: number;
  weight?: Tensor;
  bias?: Tensor;
  silu?: boolean;
  variant?: string;
}

function normalise(op: string, x: Tensor, seg: Segments, { eps, weight, bias, silu = false, variant }: Affine): Tensor {
  const pick = pickVariant(op, NORM_VARIANTS, variant);
  const y = empty(x.device, x.shape, x.dtype);
  if (x.size === 0) return y;
  // Many short segments: one invocation each (no barriers); otherwise a workgroup each.
  const perThread = pick === 'auto' ? seg.segments >= 4 * WG && seg.n <= 8192 : pick === 'thread';
  const threads = perThread ? 1 : WG;
  x.device.run({
    shader: 'norm',
    types: { X: x.dtype },
    consts: {
      WG,
      THREADS: threads,
      CHANNELS: seg.spatial === 1 ? 0 : seg.spatial % 4 === 0 ? 1 : 2,
      ALIGNED: seg.n % 4 === 0,
      WEIGHT: weight !== undefined,
      BIAS: bias !== undefined,
      SILU: silu,
    },
    // x twice (as elements and as vec4 quads); x again in place of an absent weight or bias.
    inputs: [x, x, weight ?? x, bias ?? x],
    outputs: [y],
    params: new Params().u32(seg.segments, seg.n, seg.spatial, seg.groups, seg.cpg).f32(eps).bytes(),
    workgroups: grid(threads === 1 ? Math.ceil(seg.segments / WG) : seg.segments),
    // two reads (statistics, normalise) and one write; ~10 FLOPs per element (more with SiLU)
    cost: x.size * (4 * 3 * BYTES[x.dtype] + (silu ? 30 : 10)),
  });
  return y;
}

/**
 * Group normalisation (PyTorch `nn.GroupNorm` semantics): the channels of x are split into
 * `groups` consecutive groups, and each (batch, group) is normalised by its own mean and biased
 * variance over its C/groups channels × all spatial positions; then the optional per-channel
 * affine and the optional SiLU. Statistics are computed in f32 over shifted data (exact even
 * when mean² ≫ variance).
 *
 * @param x `[batch, C, ...spatial]` (e.g. `[batch, C, H, W]`), f32 or f16
 * @returns x's shape and dtype
 */
export function groupNorm(x: Tensor, options: GroupNormOptions): Tensor {
  const op = 'groupNorm';
  checkInputs(op, [x], 'float');
  const { groups, eps = 1e-5, weight, bias } = options;
  if (x.rank < 2) throw new ShapeError(`${op}: x must be [batch, C, ...spatial], got ${fmt(x.shape)}`);
  const channels = x.shape[1];
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new ShapeError(`${op}: groups ${groups} must be a positive integer dividing the ${channels} channels of x ${fmt(x.shape)}`);
  }
  checkAffine(op, 'weight', x, weight, channels);
  checkAffine(op, 'bias', x, bias, channels);
  const spatial = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const cpg = channels / groups;
  return normalise(op, x, { segments: x.shape[0] * groups, n: cpg * spatial, spatial, groups, cpg }, { ...options, eps });
}

/**
 * Layer normalisation over the last axis (PyTorch `nn.LayerNorm(D)`): every row of D features is
 * normalised by its own mean and biased variance, then scaled and shifted per feature.
 *
 * @param x `[..., D]` (e.g. `[batch, tokens, D]`), f32 or f16
 * @returns x's shape and dtype
 */
export function layerNorm(x: Tensor, options: LayerNormOptions = {}): Tensor {
  const op = 'layerNorm';
  checkInputs(op, [x], 'float');
  const { eps = 1e-5, weight, bias } = options;
  if (x.rank < 1) throw new ShapeError(`${op}: x must have at least one axis, got ${fmt(x.shape)}`);
  const d = x.shape[x.rank - 1];
  checkAffine(op, 'weight', x, weight, d);
  checkAffine(op, 'bias', x, bias, d);
  // A row is one group of D channels with one element each.
  return normalise(op, x, { segments: d === 0 ? 0 : x.size / d, n: d, spatial: 1, groups: 1, cpg: d }, { ...options, eps, silu: false });
}
