import { hasSubgroups, type Device, type KernelLaunch } from '../device.ts';
import { BYTES, type DType } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, vectorType } from '../kernel.ts';
import { broadcastShapes, broadcastStrides, numel } from '../shape.ts';
import { empty, type Tensor } from '../tensor.ts';
import { defineVariants, pickVariant } from '../variants.ts';
import { checkInputs, checkRank, checkSameDType } from './check.ts';

/**
 * Kernels of `matmul` and `linear`: `subgroup` (shaders/matmul.wgsl: 8-, 16- or 32-row x
 * 32-column register tiles whose A rows are shared across 8 lanes of a subgroup, `laneGroups`
 * tiles per workgroup; needs the device's `subgroups` feature) and `naive`
 * (shaders/matmul_naive.wgsl: one dot product per invocation). The default is `subgroup` where
 * the device has subgroups and `naive` elsewhere.
 */
export const MATMUL_VARIANTS = defineVariants('matmul', ['subgroup', 'naive'] as const);

/** Options of `matmul`. */
export interface MatmulOptions {
  /** Read `a` as `[..., K, M]` (its last two dimensions swapped). */
  transposeA?: boolean;
  /** Read `b` as `[..., N, K]` (its last two dimensions swapped; nn.Linear's weight layout). */
  transposeB?: boolean;
  /** `[N]`, added to every row of the result (`[M]`, added to every column, with `biasPerRow`). */
  bias?: Tensor;
  /** @internal The bias is `[M]`, one value per row (conv2d's explicit GEMM: rows are channels). */
  biasPerRow?: boolean;
  variant?: string;
  /** @internal false when a caller counts the FLOPs itself (Winograd counts its direct equivalent). */
  countFlops?: boolean;
  /** @internal The result's dtype, when not the operands' (Winograd keeps its f16 GEMMs' sums in f32). */
  outDtype?: DType;
}

/**
 * How many times slower per FLOP the one-output-per-invocation kernels ran on lavapipe. Their
 * declared cost is scaled by it because the quiet wait learns one rate for all kernels: one
 * baseline run would otherwise make it oversleep every fast kernel after it.
 * @internal
 */
export const NAIVE_SLOWDOWN = 16;

/** Batch dimensions the kernels index (after merging dimensions that can be merged). */
const MAX_BATCH_DIMS = 4;
const MAX_GROUPS = 65535;

/**
 * Matrix product with NumPy-style batch broadcasting: `a` `[..., M, K]` times `b` `[..., K, N]`
 * gives `[..., M, N]`, accumulated in float32 for f32 and f16 storage alike. The leading (batch)
 * dimensions of `a` and `b` broadcast against each other, so a 2-D `b` (weights) is shared by
 * every matrix of `a`. `transposeA` / `transposeB` read an operand with its last two dimensions
 * swapped, without copying it; `bias` `[N]` is added in the same pass.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  const { transposeA = false, transposeB = false, bias } = options;
  const inputs = bias ? [a, b, bias] : [a, b];
  checkInputs(op, inputs, 'float');
  checkSameDType(op, inputs);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`${op}: operands need at least 2 dimensions, got a ${fmt(a.shape)} and b ${fmt(b.shape)}`);
  }
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [M, K] = transposeA ? [ca, ra] : [ra, ca];
  const [kb, N] = transposeB ? [cb, rb] : [rb, cb];
  if (K !== kb) {
    const how = [transposeA && 'transposeA', transposeB && 'transposeB'].filter(Boolean).join(', ');
    throw new ShapeError(`${op}: inner dimensions differ: a ${fmt(a.shape)} vs b ${fmt(b.shape)}${how ? ` (${how})` : ''}`);
  }
  const biasPerRow = options.biasPerRow === true;
  const [biasLength, biasWhat] = biasPerRow ? [M, 'rows'] : [N, 'columns'];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== biasLength)) {
    throw new ShapeError(`${op}: bias ${fmt(bias.shape)} does not match the ${biasLength} output ${biasWhat} of a ${fmt(a.shape)} x b ${fmt(b.shape)}`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  let batchShape: number[];
  try {
    batchShape = broadcastShapes(op, aBatch, bBatch);
  } catch {
    throw new ShapeError(`${op}: batch dimensions of a ${fmt(a.shape)} and b ${fmt(b.shape)} cannot be broadcast together`);
  }
  const device = a.device;
  const outDtype = options.outDtype ?? a.dtype;
  const out = empty(device, [...batchShape, M, N], outDtype);
  if (out.size === 0) return out;

  const gemm: Gemm = {
    M,
    N,
    K,
    sam: transposeA ? 1 : K,
    sak: transposeA ? M : 1,
    sbk: transposeB ? 1 : N,
    sbn: transposeB ? K : 1,
    batch: mergeBatchDims(
      op,
      batchShape,
      broadcastStrides(aBatch, batchShape).map((s) => s * M * K),
      broadcastStrides(bBatch, batchShape).map((s) => s * K * N),
    ),
  };
  // A shared B (weights) times contiguous untransposed A matrices is one tall GEMM: fewer, fuller tiles.
  const { dims, aStride, bStride } = gemm.batch;
  const aContiguous = dims.every((_, d) => aStride[d] === M * K * numel(dims.slice(d + 1)));
  if (!transposeA && aContiguous && bStride.every((s) => s === 0) && !biasPerRow) {
    gemm.M = M * numel(dims);
    gemm.batch = { dims: [], aStride: [], bStride: [] };
  }
  const variant = pickMatmulVariant(op, device, options.variant);
  const batches = numel(gemm.batch.dims);
  const pad = MAX_BATCH_DIMS - gemm.batch.dims.length;
  const params = (firstBatch: number, firstRow: number) =>
    new Params()
      .u32(gemm.M, gemm.N, gemm.K, bias ? (biasPerRow ? 2 : 1) : 0)
      .u32(firstBatch, firstRow, 0, 0)
      .u32(gemm.sam, gemm.sak, gemm.sbk, gemm.sbn)
      .u32Array([...Array<number>(pad).fill(1), ...gemm.batch.dims], 4)
      .u32Array([...Array<number>(pad).fill(0), ...gemm.batch.aStride], 4)
      .u32Array([...Array<number>(pad).fill(0), ...gemm.batch.bStride], 4)
      .bytes();
  const subgroup = variant === 'subgroup';
  // Operands whose vector dimension and batch strides are multiples of 4 are read 4 elements per
  // load, and C with N a multiple of 4 is written 4 per store (shaders/matmul.wgsl: A_V for [M, K]
  // A, B_T for [N, K] B, B_V for [K, N] B, C_V).
  const vecA = subgroup && !transposeA && K % 4 === 0 && gemm.batch.aStride.every((s) => s % 4 === 0);
  const bStridesAligned = gemm.batch.bStride.every((s) => s % 4 === 0);
  const vecBT = subgroup && transposeB && K % 4 === 0 && bStridesAligned;
  const vecBV = subgroup && !transposeB && N % 4 === 0 && bStridesAligned;
  const vecC = subgroup && N % 4 === 0;
  // Subgroup tiles of 8 invocations per workgroup, side by side along N (shaders/matmul.wgsl).
  const laneGroups = subgroup ? device.laneGroups : 1;
  for (const band of rowBands(gemm.M, subgroup)) {
    // Workgroups: laneGroups tiles of band.tile rows by 32 columns (subgroup), or 8 x 8 (naive,
    // whose band tile is 8).
    const groups = [Math.ceil(gemm.N / (subgroup ? 32 * laneGroups : 8)), Math.ceil(band.rows / band.tile)];
    if (groups[0] > MAX_GROUPS || groups[1] > MAX_GROUPS) {
      throw new ShapeError(`${op}: a ${fmt(a.shape)} x b ${fmt(b.shape)} needs more than ${MAX_GROUPS} workgroups along a dimension`);
    }
    // The batch index is the workgroup's z; more than 65535 batches go in several dispatches.
    for (let first = 0; first < batches; first += MAX_GROUPS) {
      const count = Math.min(MAX_GROUPS, batches - first);
      const macs = count * band.rows * gemm.N * gemm.K;
      const launch: KernelLaunch = {
        shader: subgroup ? 'matmul' : 'matmul_naive',
        types: subgroup ? { X: a.dtype, AV: vectorType(a.dtype, vecA), BV: vectorType(a.dtype, vecBT || vecBV), CV: vectorType(outDtype, vecC) } : { X: a.dtype, C: outDtype },
        consts: subgroup ? { ROWS: band.tile, GROUPS: laneGroups, A_V: vecA, B_T: vecBT, B_V: vecBV, C_V: vecC, BIAS_ROWS: bias !== undefined && biasPerRow } : undefined,
        inputs: [a, b, bias ?? a],
        outputs: [out],
        params: params(first, band.first),
        workgroups: [groups[0], groups[1], count],
        cost: (subgroup ? 1 : NAIVE_SLOWDOWN) * (2 * macs + 4 * count * (BYTES[a.dtype] * (band.rows * gemm.K + gemm.K * gemm.N) + BYTES[outDtype] * band.rows * gemm.N)),
        flops: options.countFlops === false ? 0 : 2 * macs,
      };
      device.run({ ...launch, subgroups: subgroup });
    }
  }
  return out;
}

/**
 * PyTorch's nn.Linear: `x` `[..., in]` times `weight` `[out, in]` transposed, plus `bias` `[out]`,
 * giving `[..., out]`.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const op = 'linear';
  checkInputs(op, bias ? [x, weight, bias] : [x, weight], 'float');
  checkRank(op, 'weight', weight, 2);
  if (x.rank < 1) throw new ShapeError(`${op}: x must have at least 1 dimension, got ${fmt(x.shape)}`);
  const [outFeatures, inFeatures] = weight.shape;
  if (x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(`${op}: x ${fmt(x.shape)} has ${x.shape[x.rank - 1]} features but weight ${fmt(weight.shape)} expects ${inFeatures}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outFeatures)) {
    throw new ShapeError(`${op}: bias ${fmt(bias.shape)} does not match weight ${fmt(weight.shape)} (${outFeatures} outputs)`);
  }
  if (x.rank > 1) return matmul(x, weight, { transposeB: true, bias });
  return x.device.scope(() => matmul(x.reshape([1, inFeatures]), weight, { transposeB: true, bias }).reshape([outFeatures]));
}

/**
 * Rows of a subgroup GEMM tile (matmul's rows of C, conv2d's output channels) for `rows` in all.
 * 32 rows take fewer loads per multiply-add than 16 and win unless they pad a quarter more rows:
 * lavapipe instructions per call (callgrind), f32, K = N = 1280: 24 % fewer at 32 rows, 2 % more
 * at 48 (64 rows computed against 48); 77 x 768 x 320: 9 % fewer (96 rows against 80). 8 rows
 * serve the UNet's time-embedding projections (2 rows: at 16, 14 of the rows computed were
 * padding, and the f16 step spent 8 % of its time there; 33 % fewer instructions at 8).
 * @internal
 */
export function subgroupTileRows(rows: number): 8 | 16 | 32 {
  if (rows <= 8) return 8;
  const padded = (tile: number) => Math.ceil(rows / tile) * tile;
  return padded(32) <= 1.25 * padded(16) ? 32 : 16;
}

/** Rows `[first, first + rows)` of C, computed in tiles of `tile` rows. @internal */
export interface RowBand {
  first: number;
  rows: number;
  tile: number;
}

/**
 * How the rows of C are dispatched: one band of `subgroupTileRows(rows)` tiles, except that a
 * last 32-row tile that would be at most half full becomes a second dispatch with 8- or 16-row
 * tiles: the padding rows are computed in full (their stores are skipped), so 77 rows as 64 + 13
 * count 11 % fewer instructions than as 96 (f32, 77 x 768 x 320, callgrind). The naive kernel
 * (8 x 8 tiles) takes one band.
 * @internal
 */
export function rowBands(rows: number, subgroup: boolean): RowBand[] {
  const tile = subgroup ? subgroupTileRows(rows) : 8;
  const tail = rows % tile;
  if (tile !== 32 || rows < tile || tail === 0 || tail > tile / 2) return [{ first: 0, rows, tile }];
  return [
    { first: 0, rows: rows - tail, tile },
    { first: rows - tail, rows: tail, tile: subgroupTileRows(tail) },
  ];
}

/** One GEMM as the kernels see it: matrix sizes, element strides inside a matrix, batch layout. */
interface Gemm {
  M: number;
  N: number;
  K: number;
  sam: number;
  sak: number;
  sbk: number;
  sbn: number;
  batch: BatchLayout;
}

/** Output batch dimensions (outermost first) and the element strides of A and B along them. */
interface BatchLayout {
  dims: number[];
  aStride: number[];
  bStride: number[];
}

/**
 * Drops size-1 batch dimensions and merges neighbours that both operands traverse contiguously,
 * so that any batch layout from ordinary use fits the kernels' 4 dimensions.
 */
function mergeBatchDims(op: string, shape: number[], aStride: number[], bStride: number[]): BatchLayout {
  const out: BatchLayout = { dims: [], aStride: [], bStride: [] };
  shape.forEach((n, d) => {
    if (n === 1) return;
    const last = out.dims.length - 1;
    if (last >= 0 && out.aStride[last] === aStride[d] * n && out.bStride[last] === bStride[d] * n) {
      out.dims[last] *= n;
      out.aStride[last] = aStride[d];
      out.bStride[last] = bStride[d];
    } else {
      out.dims.push(n);
      out.aStride.push(aStride[d]);
      out.bStride.push(bStride[d]);
    }
  });
  if (out.dims.length > MAX_BATCH_DIMS) {
    throw new ShapeError(`${op}: batch shape ${fmt(shape)} has more than ${MAX_BATCH_DIMS} dimensions that cannot be merged`);
  }
  return out;
}

/** `subgroup` unless the device lacks subgroups (then `naive`, or an error if `subgroup` was asked for). */
function pickMatmulVariant(op: string, device: Device, requested?: string): (typeof MATMUL_VARIANTS)[number] {
  const variant = pickVariant(op, MATMUL_VARIANTS, requested);
  if (variant !== 'subgroup' || hasSubgroups(device)) return variant;
  if (requested !== undefined) {
    throw new Error(`${op}: variant 'subgroup' needs the 'subgroups' feature with subgroups of at least 8 invocations, which this device lacks`);
  }
  return 'naive';
}

