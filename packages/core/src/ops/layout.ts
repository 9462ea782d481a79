import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { normAxis, stridesOf } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs, checkSameDType, checkRank } from './check.ts';

const MAX_RANK = 8;
const WG = 64;
/**
 * Elements per invocation along the innermost axis (shaders/copy.wgsl, upsample.wgsl). On
 * lavapipe, runs of 16 took ~1/3 the time of one element per invocation (index arithmetic is paid
 * per run); adjacent invocations then touch addresses 16 elements apart, which caches absorb.
 */
const RUN = 16;
/** Block copies: at most this many contiguous runs, each at least this many elements. */
const BLOCKS = { maxRuns: 256, minElements: 1024 };

/** A box of elements and how it lies in memory: `shape` with element strides and a base offset. */
interface View {
  offset: number;
  strides: number[];
}

/** A copy box after merging: its extents and the element strides of source and destination. */
interface Box {
  shape: number[];
  src: number[];
  dst: number[];
}

/**
 * Merges neighbouring axes that are contiguous in both views (and drops axes of extent 1), so the
 * kernel unravels as few axes as possible: a permute of [B, C, H, W] to [B, H, W, C] becomes a
 * 2-D transpose of [C, H·W] per batch. Always keeps at least one axis.
 */
function collapse(shape: number[], from: View, to: View): Box {
  const box: Box = { shape: [], src: [], dst: [] };
  shape.forEach((extent, d) => {
    if (extent === 1) return;
    const last = box.shape.length - 1;
    if (last >= 0 && box.src[last] === from.strides[d] * extent && box.dst[last] === to.strides[d] * extent) {
      box.shape[last] *= extent;
      box.src[last] = from.strides[d];
      box.dst[last] = to.strides[d];
    } else {
      box.shape.push(extent);
      box.src.push(from.strides[d]);
      box.dst.push(to.strides[d]);
    }
  });
  if (box.shape.length === 0) return { shape: [1], src: [1], dst: [1] }; // a single element
  return box;
}

/**
 * Records dst[view dst] = src[view src] over the box `shape`: as buffer-to-buffer copies when the
 * box is a few long contiguous runs in both views (a memcpy on CPU adapters, ~20× faster than a
 * kernel), else as one dispatch of shaders/copy.wgsl.
 */
function stridedCopy(src: Tensor, from: View, dst: Tensor, to: View, shape: number[]): void {
  const n = shape.reduce((p, d) => p * d, 1);
  if (n === 0) return;
  const box = collapse(shape, from, to);
  if (box.shape.length > MAX_RANK) throw new ShapeError(`copy: rank ${box.shape.length} exceeds ${MAX_RANK}`);
  if (blockCopy(src, from.offset, dst, to.offset, box)) return;
  const inner = box.shape[box.shape.length - 1];
  const runsPerRow = Math.ceil(inner / RUN);
  const runs = (n / inner) * runsPerRow;
  src.device.run({
    shader: 'copy',
    types: { X: src.dtype },
    consts: { WG, RANK: box.shape.length, RUN },
    inputs: [src],
    outputs: [dst],
    params: new Params()
      .u32(runs, runsPerRow, from.offset, to.offset)
      .u32Array(box.shape, MAX_RANK)
      .u32Array(box.src, MAX_RANK)
      .u32Array(box.dst, MAX_RANK)
      .bytes(),
    workgroups: grid(Math.ceil(runs / WG)),
    cost: n * (8 * BYTES[src.dtype] + 10 * box.shape.length),
  });
}

/** Copies the box as one buffer copy per contiguous run, if it has few long 4-byte-aligned runs. */
function blockCopy(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, box: Box): boolean {
  const last = box.shape.length - 1;
  const inner = box.shape[last];
  const rows = box.shape.slice(0, last).reduce((p, d) => p * d, 1);
  const bytes = BYTES[src.dtype];
  if (box.src[last] !== 1 || box.dst[last] !== 1 || inner < BLOCKS.minElements || rows > BLOCKS.maxRuns) return false;
  const starts: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    let rest = r;
    let s = srcOffset;
    let t = dstOffset;
    for (let d = last - 1; d >= 0; d--) {
      const coord = rest % box.shape[d];
      rest = Math.floor(rest / box.shape[d]);
      s += coord * box.src[d];
      t += coord * box.dst[d];
    }
    starts.push([s * bytes, t * bytes]);
  }
  // WebGPU copies move whole 4-byte words.
  if ((inner * bytes) % 4 !== 0 || starts.some(([s, t]) => s % 4 !== 0 || t % 4 !== 0)) return false;
  src.device.check();
  for (const [s, t] of starts) src.device.recorder.copy(src.buffer, s, dst.buffer, t, inner * bytes);
  return true;
}

function checkLayoutInput(op: string, x: Tensor): void {
  checkInputs(op, [x]);
  if (x.rank > MAX_RANK) throw new ShapeError(`${op}: rank of x ${fmt(x.shape)} exceeds ${MAX_RANK}`);
}

/**
 * Reorders the axes of x: output axis i is input axis `dims[i]` (negative entries count from the
 * end), as NumPy's `transpose(x, dims)` / PyTorch's `permute`. Any dtype, rank ≤ 8.
 *
 * @returns `[x.shape[dims[0]], x.shape[dims[1]], …]`, a new contiguous tensor
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const op = 'permute';
  checkLayoutInput(op, x);
  const axes = dims.map((d) => normAxis(op, d, x.rank));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new ShapeError(`${op}: dims [${dims.join(', ')}] are not a permutation of the axes of x ${fmt(x.shape)}`);
  }
  const shape = axes.map((d) => x.shape[d]);
  const out = empty(x.device, shape, x.dtype);
  const strides = stridesOf(x.shape);
  stridedCopy(x, { offset: 0, strides: axes.map((d) => strides[d]) }, out, { offset: 0, strides: stridesOf(shape) }, shape);
  return out;
}

/** Swaps axes `a` and `b` of x (negative axes count from the end). */
export function transpose(x: Tensor, a: number, b: number): Tensor {
  const dims = [...x.shape.keys()];
  const i = normAxis('transpose', a, x.rank);
  const j = normAxis('transpose', b, x.rank);
  [dims[i], dims[j]] = [dims[j], dims[i]];
  return permute(x, dims);
}

/**
 * Copies the box `starts[d] ≤ index < ends[d]` of x. `starts` and `ends` may be shorter than the
 * rank (later axes are taken whole); negative values count from the end of their axis. Empty
 * ranges (start = end) give empty tensors; start > end or values outside the axis are errors.
 *
 * @returns `[ends[0] − starts[0], …]`, a new contiguous tensor
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  const op = 'slice';
  checkLayoutInput(op, x);
  const what = `starts [${starts.join(', ')}], ends [${ends.join(', ')}] for x ${fmt(x.shape)}`;
  if (starts.length !== ends.length || starts.length > x.rank) throw new ShapeError(`${op}: ${what}: need one start and one end per axis`);
  const lo = x.shape.map((d, i) => resolve(starts[i] ?? 0, d));
  const hi = x.shape.map((d, i) => resolve(ends[i] ?? d, d));
  lo.forEach((l, i) => {
    if (!Number.isInteger(l) || !Number.isInteger(hi[i]) || l < 0 || hi[i] > x.shape[i] || l > hi[i]) {
      throw new ShapeError(`${op}: ${what}: axis ${i} range ${starts[i]}..${ends[i]} is outside 0..${x.shape[i]} or reversed`);
    }
  });
  const shape = hi.map((h, i) => h - lo[i]);
  const out = empty(x.device, shape, x.dtype);
  const strides = stridesOf(x.shape);
  const offset = lo.reduce((p, l, i) => p + l * strides[i], 0);
  stridedCopy(x, { offset, strides }, out, { offset: 0, strides: stridesOf(shape) }, shape);
  return out;
}

function resolve(index: number, extent: number): number {
  return index < 0 ? index + extent : index;
}

/** `slice` along one axis: elements `start ≤ i < end` of `axis`, every other axis whole. */
export function sliceAxis(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = normAxis('slice', axis, x.rank);
  const starts = x.shape.map((_, i) => (i === a ? start : 0));
  const ends = x.shape.map((d, i) => (i === a ? end : d));
  return slice(x, starts, ends);
}

/**
 * Joins tensors of one dtype along `axis` (negative counts from the end); all other extents must
 * agree. One copy per input into its place in the output.
 *
 * @returns the common shape with `axis` the sum of the inputs' extents
 */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const op = 'concat';
  if (tensors.length === 0) throw new ShapeError(`${op}: no tensors to join`);
  checkInputs(op, tensors);
  checkSameDType(op, tensors);
  const first = tensors[0];
  checkLayoutInput(op, first);
  const a = normAxis(op, axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`${op}: shapes ${tensors.map((u) => fmt(u.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = tensors.reduce((p, t) => p + t.shape[a], 0);
  const out = empty(first.device, shape, first.dtype);
  const outStrides = stridesOf(shape);
  let at = 0;
  for (const t of tensors) {
    stridedCopy(t, { offset: 0, strides: stridesOf(t.shape) }, out, { offset: at * outStrides[a], strides: outStrides }, [...t.shape]);
    at += t.shape[a];
  }
  return out;
}

/**
 * Nearest-neighbour 2× upsampling (Stable Diffusion's `F.interpolate(scale_factor=2, mode='nearest')`):
 * out[b, c, y, x] = x[b, c, ⌊y/2⌋, ⌊x/2⌋]. Its own kernel (shaders/upsample.wgsl): as a strided
 * copy the duplicated axes would be innermost, too short for runs.
 *
 * @param x `[batch, C, H, W]`
 * @returns `[batch, C, 2H, 2W]`
 */
export function upsampleNearest2x(x: Tensor): Tensor {
  const op = 'upsampleNearest2x';
  checkLayoutInput(op, x);
  checkRank(op, 'x', x, 4);
  const [b, c, h, w] = x.shape;
  const out = empty(x.device, [b, c, 2 * h, 2 * w], x.dtype);
  if (out.size === 0) return out;
  const runsPerRow = Math.ceil(w / RUN);
  const runs = b * c * h * runsPerRow;
  x.device.run({
    shader: 'upsample',
    types: { X: x.dtype },
    consts: { WG, RUN },
    inputs: [x],
    outputs: [out],
    params: new Params().u32(runs, runsPerRow, w).bytes(),
    workgroups: grid(Math.ceil(runs / WG)),
    cost: out.size * 4 * BYTES[x.dtype],
  });
  return out;
}
