import { hasSubgroups, type Device, type KernelLaunch } from '../device.ts';
import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid, vectorType, type KernelConsts } from '../kernel.ts';
import { sameShape } from '../shape.ts';
import { empty, zeros, type Tensor } from '../tensor.ts';
import type { Tunable } from '../tuning.ts';
import { defineVariants, pickVariant } from '../variants.ts';
import { checkInputs, checkRank, checkSameDType } from './check.ts';
import { add, silu } from './elementwise.ts';
import { NAIVE_SLOWDOWN, matmul, subgroupTileRows } from './matmul.ts';

/**
 * Kernels of `conv2d`:
 * - `implicit`: implicit GEMM, 8, 16 or 32 output channels x 32 pixels per group of 8 lanes of a
 *   subgroup, `laneGroups` groups per workgroup
 *   (shaders/conv2d.wgsl; needs the device's `subgroups` feature);
 * - `winograd`: Winograd F(2x2, 3x3) for 3x3 stride-1 kernels: transform filters and input tiles,
 *   16 batched GEMMs with 2.25x fewer multiplications, transform back with the epilogue
 *   (shaders/conv2d_winograd_*.wgsl and `matmul`);
 * - `gemm`: explicit GEMM: the patch matrix (shaders/im2col.wgsl; none for 1x1 stride-1 kernels
 *   without input scale), then `matmul` with the bias; SiLU and the residual as separate passes.
 *   Needs an output image size that is a multiple of 4; costs a `[batch, inC·kH·kW, outH·outW]`
 *   buffer, but the GEMM reads whole vectors where the implicit GEMM gathers element by element;
 * - `direct`: one output element per invocation (shaders/conv2d_naive.wgsl), the readable baseline;
 * - `auto` (default): `winograd` where it applies and there are enough tiles and channels, else
 *   `gemm` where it applies and its patch matrix is small enough, else `implicit` where the device
 *   has subgroups, else `direct`.
 */
export const CONV2D_VARIANTS = defineVariants('conv2d', ['auto', 'implicit', 'winograd', 'gemm', 'direct'] as const);

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** `[outC]`, added to every output pixel of its channel. */
  bias?: Tensor;
  /** Step between windows, in input pixels: one number or `[sy, sx]` (default 1). */
  stride?: number | readonly [number, number];
  /** Zero padding on each side: one number or `[py, px]` (default 0). */
  padding?: number | readonly [number, number];
  /** Applied after the bias: `'silu'` (x·sigmoid(x)) or `'none'` (default). */
  activation?: 'silu' | 'none';
  /** Same shape as the output, added last: `y = act(conv + bias) + residual`. */
  residual?: Tensor;
  /**
   * `[batch, inC]`: per-sample, per-input-channel weight scale, `w'[b, o, i] = w[o, i] · s[b, i]`
   * (UniControl's HyperNet-modulated zero-convolutions), applied to the input values as the kernel loads them (in f32): the same sum.
   */
  inputScale?: Tensor;
  variant?: string;
}

/**
 * 2-D cross-correlation (PyTorch's conv2d) over NCHW images: `x` `[batch, inC, H, W]` with
 * `weight` `[outC, inC, kH, kW]` gives `[batch, outC, outH, outW]` where
 * `outH = floor((H + 2·padY − kH) / strideY) + 1` (likewise `outW`). Bias, activation, residual
 * and input scaling run in the same pass; accumulation is in float32 for f32 and f16 storage.
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const { bias, residual, inputScale, activation = 'none' } = options;
  const extras = [bias, residual, inputScale].filter((t): t is Tensor => t !== undefined);
  checkInputs(op, [x, weight, ...extras], 'float');
  checkSameDType(op, [x, weight, ...extras]);
  checkRank(op, 'x', x, 4);
  checkRank(op, 'weight', weight, 4);
  const [batch, inC, H, W] = x.shape;
  const [outC, wInC, KH, KW] = weight.shape;
  if (wInC !== inC) {
    throw new ShapeError(`${op}: x ${fmt(x.shape)} has ${inC} channels but weight ${fmt(weight.shape)} expects ${wInC}`);
  }
  const [strideY, strideX] = pair(op, 'stride', options.stride ?? 1, 1);
  const [padY, padX] = pair(op, 'padding', options.padding ?? 0, 0);
  const OH = Math.floor((H + 2 * padY - KH) / strideY) + 1;
  const OW = Math.floor((W + 2 * padX - KW) / strideX) + 1;
  if (KH === 0 || KW === 0 || OH < 1 || OW < 1) {
    throw new ShapeError(
      `${op}: kernel ${KH}x${KW} of weight ${fmt(weight.shape)} does not fit x ${fmt(x.shape)} padded by ${fmt([padY, padX])}`,
    );
  }
  const outShape = [batch, outC, OH, OW];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outC)) {
    throw new ShapeError(`${op}: bias ${fmt(bias.shape)} does not match the ${outC} output channels of weight ${fmt(weight.shape)}`);
  }
  if (residual && !sameShape(residual.shape, outShape)) {
    throw new ShapeError(`${op}: residual ${fmt(residual.shape)} differs from the output shape ${fmt(outShape)}`);
  }
  if (inputScale && !sameShape(inputScale.shape, [batch, inC])) {
    throw new ShapeError(`${op}: inputScale ${fmt(inputScale.shape)} must be [batch, inC] = ${fmt([batch, inC])} for x ${fmt(x.shape)}`);
  }
  if (activation !== 'silu' && activation !== 'none') throw new Error(`${op}: unknown activation '${String(activation)}'`);

  const device = x.device;
  const K = inC * KH * KW;
  const npx = OH * OW;
  if (batch * outC * npx === 0) return empty(device, outShape, x.dtype);
  const tiles = batch * Math.ceil(OH / 2) * Math.ceil(OW / 2);
  // Winograd's intermediates, sized as float32 (the GEMM results are; in float16 the transformed
  // filters and input tiles take half): the 16 transformed filters whole, the input tiles and GEMM
  // results in chunks of tiles.
  const limit = device.limits.maxStorageBufferBindingSize;
  const gemmPatchBytes = npx % 4 === 0 ? batch * K * npx * BYTES[x.dtype] : Infinity;
  // 1x1, stride 1, no padding: the input is its own patch matrix.
  const pointwise = KH === 1 && KW === 1 && strideY === 1 && strideX === 1 && padY === 0 && padX === 0;
  // The implicit GEMM reads 3x3 input rows as vectors (at stride 1 or 2; 0: off) when a 32-pixel
  // tile spans whole output rows of a width that is a multiple of 4 and the input is `stride`
  // times as wide. Then it also beats the explicit GEMM: at stride 2, 320 channels at 32x32,
  // callgrind counts 10 % fewer instructions in f32 and 14 % in f16.
  const rowsAsVectors = KH === 3 && KW === 3 && strideY === strideX && strideX <= 2 && padY === 1 && padX === 1 && OW % 4 === 0 && 32 % OW === 0 && W === strideX * OW ? strideX : 0;
  const variant = pickConvVariant(
    op,
    device,
    options.variant,
    {
      KH,
      KW,
      strideY,
      strideX,
      tiles,
      channels: Math.min(inC, outC),
      fitsMemory: 16 * 4 * inC * outC <= limit && winogradChunk(inC, outC, limit) >= Math.min(tiles, WINOGRAD_MIN_TILES),
      gemmPatchBytes,
      rowVectors: rowsAsVectors > 0,
      gemmPays:
        gemmPatchBytes <= Math.min(GEMM_PATCH_BYTES, limit) &&
        K >= GEMM_MIN_K &&
        npx >= GEMM_MIN_PIXELS &&
        outC >= GEMM_MIN_CHANNELS &&
        // SiLU and the residual would be extra passes (and, in f16, extra roundings).
        activation !== 'silu' &&
        residual === undefined,
    },
    (withGemm) => tunable(x, weight, options, withGemm),
  );
  if (variant === 'gemm') return explicitGemm(x, weight, { ...options, strideY, strideX, padY, padX, OH, OW, pointwise });
  const y = empty(device, outShape, x.dtype);
  const epilogue = (bias ? 1 : 0) | (activation === 'silu' ? 2 : 0) | (residual ? 4 : 0);
  if (variant === 'winograd') {
    winograd(x, weight, y, { bias, residual, inputScale, padY, padX, epilogue, flops: 2 * batch * outC * npx * K });
    return y;
  }
  const subgroup = variant === 'implicit';
  // Vector loads (shaders/conv2d.wgsl): weight rows 4 k at a time when K is a multiple of 4; the
  // input 4 pixels at a time for 1x1 stride-1 unpadded kernels when the image size is a multiple of
  // 4, and for 3x3 kernels with padding 1 on narrow images (below).
  const vecW = subgroup && K % 4 === 0;
  // The output (and residual) 4 pixels at a time when the output image size is a multiple of 4
  // (and x, bound as the residual when there is none, holds one vec4).
  const vecY = subgroup && npx % 4 === 0 && (residual !== undefined || x.buffer.size >= 16);
  const vecX = subgroup && pointwise && npx % 4 === 0;
  const channels = subgroupTileRows(outC);
  const laneGroups = device.laneGroups;
  const consts: KernelConsts = { KH, KW, EPILOGUE: epilogue, HAS_SCALE: inputScale !== undefined, ...(subgroup ? { CHANNELS: channels, GROUPS: laneGroups, W_V: vecW, X_V: vecX, X_ROW: rowsAsVectors, Y_V: vecY } : {}) };
  // implicit: workgroups of laneGroups tiles of 32 pixels counted across the batch, along x then z;
  // direct: the batch along z.
  const pixelGroups = Math.ceil((batch * npx) / (32 * laneGroups));
  const [dx, dy] = grid(Math.ceil((outC * npx) / 64));
  const [gx, gy, gz] = subgroup ? [Math.min(pixelGroups, 65535), Math.ceil(outC / channels), Math.ceil(pixelGroups / 65535)] : [dx, dy, batch];
  if (gx > 65535 || gy > 65535 || gz > 65535) {
    throw new ShapeError(`${op}: x ${fmt(x.shape)} with weight ${fmt(weight.shape)} needs more than 65535 workgroups along a dimension`);
  }
  const launch: KernelLaunch = {
    shader: subgroup ? 'conv2d' : 'conv2d_naive',
    types: subgroup ? { X: x.dtype, XV: vectorType(x.dtype, vecX || rowsAsVectors > 0), WV: vectorType(x.dtype, vecW), YV: vectorType(x.dtype, vecY) } : { X: x.dtype },
    consts,
    // Absent optional inputs are bound to x (never read: their flag or constant is off).
    inputs: [x, weight, bias ?? x, residual ?? x, inputScale ?? x],
    outputs: [y],
    params: new Params().u32(inC, H, W, outC, OH, OW, strideY, strideX, padY, padX, K, batch).bytes(),
    workgroups: [gx, gy, gz] as const,
    cost: (subgroup ? 1 : NAIVE_SLOWDOWN) * (2 * batch * outC * npx * K + BYTES[x.dtype] * 4 * (x.size + weight.size + 2 * y.size)),
    flops: 2 * batch * outC * npx * K,
  };
  device.run({ ...launch, subgroups: subgroup });
  return y;
}

/** A number-or-pair option as `[y, x]`, checked to be integers ≥ `min`. */
function pair(op: string, name: string, v: number | readonly [number, number], min: number): [number, number] {
  const [a, b] = typeof v === 'number' ? [v, v] : v;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < min || b < min) {
    throw new ShapeError(`${op}: ${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return [a, b];
}

/**
 * Picks `conv2d`'s kernel, checking that an explicitly requested one can run. For `auto`, where
 * both Winograd and the implicit GEMM can run, the device's tuned choice for this call's shapes
 * (`Device.autotune`) wins over the heuristic, which stays the choice until the shape is tuned.
 */
function pickConvVariant(
  op: string,
  device: Device,
  requested: string | undefined,
  shape: { KH: number; KW: number; strideY: number; strideX: number; tiles: number; channels: number; fitsMemory: boolean;
    /** Bytes of the explicit GEMM's patch matrix (Infinity where it cannot run). */
    gemmPatchBytes: number;
    /** Whether `auto` may choose the explicit GEMM (see GEMM_MIN_K), and the autotuner time it. */
    gemmPays: boolean;
    /** Whether the implicit GEMM reads input rows as vectors: then `auto` prefers it to the explicit GEMM. */
    rowVectors: boolean;
  },
  tunableCall: (withGemm: boolean) => Tunable,
): Exclude<(typeof CONV2D_VARIANTS)[number], 'auto'> {
  const variant = pickVariant(op, CONV2D_VARIANTS, requested);
  const winogradFits = shape.KH === 3 && shape.KW === 3 && shape.strideY === 1 && shape.strideX === 1;
  if (variant === 'winograd' && !winogradFits) {
    throw new ShapeError(`${op}: variant 'winograd' needs a 3x3 kernel with stride 1, got ${shape.KH}x${shape.KW} stride ${fmt([shape.strideY, shape.strideX])}`);
  }
  if (variant === 'winograd' && !shape.fitsMemory) {
    throw new ShapeError(`${op}: variant 'winograd' would need intermediate buffers beyond the device's storage binding size`);
  }
  if (variant === 'gemm' && shape.gemmPatchBytes > device.limits.maxStorageBufferBindingSize) {
    throw new ShapeError(`${op}: variant 'gemm' needs an output image size that is a multiple of 4 and a patch matrix within the device's storage binding size`);
  }
  if (variant === 'implicit' && !hasSubgroups(device)) {
    throw new Error(`${op}: variant 'implicit' needs the 'subgroups' feature with subgroups of at least 8 invocations, which this device lacks`);
  }
  if (variant !== 'auto') return variant;
  if (!hasSubgroups(device)) return 'direct';
  const gemmOrImplicit = shape.gemmPays && !shape.rowVectors ? 'gemm' : 'implicit';
  if (!winogradFits || !shape.fitsMemory) return gemmOrImplicit;
  const call = tunableCall(shape.gemmPays);
  const tuned = device.tuning.choice(call.key);
  if (tuned === 'winograd' || tuned === 'implicit' || tuned === 'gemm') return tuned;
  device.tuning.offer(call);
  const winogradPays = shape.tiles >= WINOGRAD_MIN_TILES && shape.channels >= WINOGRAD_MIN_CHANNELS;
  return winogradPays ? 'winograd' : gemmOrImplicit;
}

/** The choice between Winograd, the implicit GEMM and (with `withGemm`) the explicit GEMM for this call's shapes and options, to time. */
function tunable(x: Tensor, weight: Tensor, options: Conv2dOptions, withGemm: boolean): Tunable {
  const { bias, residual, inputScale, activation = 'none', padding = 0 } = options;
  const device = x.device;
  const extras = `${bias ? ' bias' : ''}${residual ? ' residual' : ''}${inputScale ? ' inputScale' : ''}${activation === 'silu' ? ' silu' : ''}`;
  return {
    key: `conv2d ${x.dtype} x ${fmt(x.shape)} weight ${fmt(weight.shape)} padding ${JSON.stringify(padding)}${extras}`,
    candidates: withGemm ? ['winograd', 'implicit', 'gemm'] : ['winograd', 'implicit'],
    prepare: () => {
      const like = (t: Tensor | undefined) => t && zeros(device, t.shape, t.dtype);
      const [xz, wz] = [like(x)!, like(weight)!];
      const extra = { bias: like(bias), residual: like(residual), inputScale: like(inputScale) };
      return {
        run: (variant) => device.scope(() => void conv2d(xz, wz, { ...options, ...extra, variant })),
        dispose: () => [xz, wz, ...Object.values(extra)].forEach((t) => t?.dispose()),
      };
    },
  };
}

/**
 * Where Winograd beat the implicit GEMM on lavapipe. The filter transform is paid once per call
 * and the tile transforms once per channel, so it needs enough tiles and channels. Measured speed
 * against `implicit` (f32, with the filters stored [N, K] for the GEMMs): 1.9x at 320 channels @
 * 32x32 (256 tiles), 1.7x at 640 @ 16x16 (64), 1.45x at 1280 @ 8x8 batch 2 (32), 1.25x at 1280 @
 * 8x8 (16); 0.55x at 1280 @ 4x4 batch 2 (8 tiles). Earlier, with [K, N] filters: 1.4x at 128 @
 * 24x24, 1.1x at 64 @ 32x32, 0.33x at 4 → 320 channels. `Device.autotune` measures instead.
 */
const WINOGRAD_MIN_TILES = 16;
const WINOGRAD_MIN_CHANNELS = 64;
/**
 * Largest intermediate of a Winograd chunk (its float32 GEMM results). Big enough that each
 * chunk's 16 GEMMs run at full speed, small enough to bound the extra memory at large images (the
 * VAE at 512 px has 64 K tiles per 128 channels).
 */
const WINOGRAD_CHUNK_BYTES = 32 << 20;

/** Tiles per Winograd chunk: the input tiles and GEMM results of a chunk fit the chunk budget and the binding limit. */
function winogradChunk(inC: number, outC: number, limit: number): number {
  return Math.floor(Math.min(limit, WINOGRAD_CHUNK_BYTES) / (16 * 4 * Math.max(inC, outC)));
}

/** Largest patch matrix `auto` lets the explicit GEMM allocate. */
const GEMM_PATCH_BYTES = 64 * 2 ** 20;
/**
 * Where `auto` takes the explicit GEMM over the implicit one (no SiLU or residual; lavapipe): it
 * pays with long rows (K = inC·kH·kW), enough output channels for the GEMM's 32-row tiles, and
 * enough pixels per image to fill its 32-column tiles (each image is its own GEMM). Measured
 * against `implicit`: 1x1 at batch 2, f32, 320-1280 channels: 0.95-1.2x, with the HyperNet's
 * input scale (which then needs the scaled copy) 1.05-1.7x; 3x3 stride 2 at 320 channels,
 * 32x32 -> 16x16: 1.25x at batch 1 (f32), 1.0x at batch 2 (f16); 0.5x at 640 channels, 8x8 ->
 * 4x4, batch 2 (16 pixels); 0.4x and 0.75x on the hint encoder's 16 -> 32 and 32 -> 96 channel
 * stride-2 convolutions (f16), 0.8x on 4 -> 320 channels (K = 36), where writing the patch matrix
 * costs as much as the GEMM.
 */
const GEMM_MIN_K = 64;
const GEMM_MIN_PIXELS = 64;
const GEMM_MIN_CHANNELS = 128;

/**
 * The explicit GEMM: y[b] = w `[outC, K]` · cols[b] `[K, OH·OW]` with the bias per output channel,
 * where cols is the patch matrix (shaders/im2col.wgsl), or x itself for a 1x1 stride-1 unpadded
 * kernel without input scale. SiLU and the residual follow as element-wise passes.
 */
function explicitGemm(
  x: Tensor,
  weight: Tensor,
  o: Conv2dOptions & { strideY: number; strideX: number; padY: number; padX: number; OH: number; OW: number; pointwise: boolean },
): Tensor {
  const device = x.device;
  const [batch, inC, H, W] = x.shape;
  const [outC, , KH, KW] = weight.shape;
  const K = inC * KH * KW;
  const npx = o.OH * o.OW;
  return device.scope(() => {
    let cols: Tensor;
    if (o.pointwise && !o.inputScale) {
      cols = x.reshape([batch, inC, npx]);
    } else {
      cols = empty(device, [batch, K, npx], x.dtype);
      const quads = batch * K * (npx / 4);
      device.run({
        shader: 'im2col',
        types: { X: x.dtype, CV: vectorType(x.dtype, true) },
        consts: { KH, KW, HAS_SCALE: o.inputScale !== undefined },
        inputs: [x, o.inputScale ?? x],
        outputs: [cols],
        params: new Params().u32(inC, H, W, o.OW, o.strideY, o.strideX, o.padY, o.padX, K, npx / 4, batch * K).bytes(),
        workgroups: grid(Math.ceil(quads / 64)),
        cost: quads * (40 + 4 * 8 * BYTES[x.dtype]),
      });
    }
    let y = matmul(weight.reshape([outC, K]), cols, { bias: o.bias, biasPerRow: true }).reshape([batch, outC, o.OH, o.OW]);
    if (o.activation === 'silu') y = silu(y);
    if (o.residual) y = add(y, o.residual);
    return y;
  });
}

/**
 * Winograd F(2x2, 3x3) convolution into `y` (3x3 kernel, stride 1): U = G g Gᵀ per filter
 * (stored [16, outC, inC]), V = Bᵀ d B per 4x4 input tile, M = U ⊙ V summed over input channels
 * as 16 GEMMs (one per position of the 4x4 transform), y = Aᵀ M A per 2x2 output tile with the
 * epilogue. The transforms compute in float32. U and V, the GEMMs' operands, are stored in the
 * activations' dtype: in float16 a lane's load brings twice the values, which is what bounds the
 * GEMMs on lavapipe (matmul.wgsl); each is one more float16 rounding, as storing any activation
 * is. M, their float32 sums, stays float32 for the output transform, whose sums cancel.
 */
function winograd(
  x: Tensor,
  weight: Tensor,
  y: Tensor,
  o: { bias?: Tensor; residual?: Tensor; inputScale?: Tensor; padY: number; padX: number; epilogue: number; flops: number },
): void {
  const device = x.device;
  const [batch, inC, H, W] = x.shape;
  const [, outC, OH, OW] = y.shape;
  const tilesY = Math.ceil(OH / 2);
  const tilesX = Math.ceil(OW / 2);
  const tiles = batch * tilesY * tilesX;
  const dtype = x.dtype;
  device.scope(() => {
    const u = empty(device, [16, outC, inC], dtype);
    // 4 input channels' filters per invocation, with vector loads and stores, where inC allows.
    const quads = inC % 4 === 0;
    device.run({
      shader: 'conv2d_winograd_weights',
      types: { WV: vectorType(dtype, quads), UV: vectorType(dtype, quads) },
      consts: { QUADS: quads },
      inputs: [weight],
      outputs: [u],
      params: new Params().u32(inC, outC).bytes(),
      workgroups: grid(Math.ceil((inC * outC) / (quads ? 4 : 1) / 64)),
      cost: inC * outC * (60 + 4 * 25 * BYTES[dtype]),
    });
    const chunk = winogradChunk(inC, outC, device.limits.maxStorageBufferBindingSize);
    for (let first = 0; first < tiles; first += chunk) {
      const count = Math.min(chunk, tiles - first);
      device.scope(() => {
        const v = empty(device, [16, count, inC], dtype);
        device.run({
          shader: 'conv2d_winograd_input',
          types: { X: dtype },
          consts: { HAS_SCALE: o.inputScale !== undefined },
          inputs: [x, o.inputScale ?? x],
          outputs: [v],
          params: new Params().u32(inC, H, W, tilesY, tilesX, count, o.padY, o.padX, first).bytes(),
          workgroups: grid(Math.ceil((count * inC) / 64)),
          cost: count * inC * (100 + 4 * 32 * BYTES[dtype]),
        });
        const m = matmul(v, u, { transposeB: true, countFlops: false, outDtype: 'f32' }); // [16, count, outC]
        device.run({
          shader: 'conv2d_winograd_output',
          types: { X: dtype },
          consts: { EPILOGUE: o.epilogue },
          inputs: [m, o.bias ?? x, o.residual ?? x],
          outputs: [y],
          params: new Params().u32(outC, OH, OW, tilesY, tilesX, count, first).bytes(),
          workgroups: grid(Math.ceil((count * outC) / 64)),
          cost: count * outC * (60 + 4 * (64 + 8 * BYTES[x.dtype])),
          // The direct algorithm's count, not the 2.25x fewer multiplications done.
          flops: (o.flops * count) / tiles,
        });
      });
    }
  });
}
