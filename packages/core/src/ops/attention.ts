import { hasSubgroups, type KernelLaunch } from '../device.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid, vectorType } from '../kernel.ts';
import { empty, zeros, type Tensor } from '../tensor.ts';
import type { Tunable } from '../tuning.ts';
import { defineVariants, pickVariant } from '../variants.ts';
import { checkInputs, checkRank, checkSameDType } from './check.ts';
import { concat, permute, sliceAxis } from './layout.ts';
import { matmul } from './matmul.ts';
import { softmax } from './softmax.ts';

/**
 * Kernels of `attention`:
 * - `subgroup` (shaders/attention_subgroup.wgsl): blocks of 8 keys shared across 8 lanes of a
 *   subgroup, `laneGroups` such groups per workgroup;
 *   needs the device's `subgroups` feature. The default where the device has it, for head sizes
 *   up to `SUBGROUP_MAX_D`.
 * - `blocked` (shaders/attention.wgsl): the same blocking without subgroups, every invocation
 *   loading every key. The default elsewhere.
 * - `simple` (shaders/attention_simple.wgsl): one query row per invocation, one key at a time —
 *   the readable baseline.
 * - `scores`: the score matrix stored, in f32: q·kᵀ and p·v by `matmul`, the softmax between,
 *   in chunks of query rows of at most 64 MiB of scores. The default for head sizes beyond
 *   `blocked`'s private budget (d > 160: the VAE's single d512 head), where the matmul kernels'
 *   tiling wins: 2.5× faster than `blocked` at 4096 tokens × d512 on lavapipe.
 * `subgroup` and `blocked` read vec4s and need head size % 4 = 0; other head sizes run `simple`.
 */
export const ATTENTION_VARIANTS = defineVariants('attention', ['subgroup', 'blocked', 'simple', 'scores'] as const);

/** Options of `attention`. */
export interface AttentionOptions {
  /** Number of heads; the last dimension of q, k and v is heads × head size d. */
  heads: number;
  /**
   * Mask future keys: query row i attends to key rows j ≤ i only (top-left aligned, like
   * PyTorch's `is_causal`; also when Lq ≠ Lk). For CLIP's text encoder.
   */
  causal?: boolean;
  /** Factor on q·k before the softmax; default 1/√d. */
  scale?: number;
  /**
   * Kernel variant, one of `ATTENTION_VARIANTS`. Default: `scores` for d > 160; else `subgroup`
   * where the device has subgroups and d ≤ 80, else `blocked`, unless `Device.autotune` chose
   * `scores` for the call's shapes.
   */
  variant?: string;
}

/**
 * Tilings, chosen by timing on lavapipe at 8 heads × 1024 tokens × d40. Blocked: invocations per
 * workgroup (lavapipe's SIMD width), query rows per invocation, keys per block. Subgroup: query
 * rows per invocation (a workgroup is 8 invocations and takes 8 keys at a time).
 */
const BLOCKED = { WG: 8, ROWS: 8, KEYS: 6 };
/**
 * Private floats per invocation that `blocked` may hold in its q and accumulator arrays (2·ROWS·D):
 * beyond it ROWS shrinks. 2560 is d160 at 8 rows, the largest the UNet needs; NVIDIA's Vulkan
 * driver (H100, driver 580) refused to create the pipeline for the VAE's d512 at 8 rows (8192
 * floats per invocation, "failed to validate local memory").
 */
const BLOCKED_PRIVATE_FLOATS = 2560;
/** `blocked`'s query rows per invocation at head size d: ROWS, fewer past BLOCKED_PRIVATE_FLOATS. */
const blockedRows = (d: number): number => Math.max(1, Math.min(BLOCKED.ROWS, Math.floor(BLOCKED_PRIVATE_FLOATS / (2 * d))));
/**
 * Query rows per invocation of the subgroup kernel. On lavapipe (8-wide subgroups, one tile per
 * workgroup) 4: its private arrays live in CPU registers and the stack, and each shuffled key
 * feeds 4 rows. Where subgroups are wider (laneGroups > 1: GPUs) 1: at d40, 4 rows hold 320 floats
 * of q and accumulators per invocation, past the 255 registers of an NVIDIA thread. H200, f32,
 * 8 heads d40, 1 / 2 / 4 / 8 rows: self-attention at 1024 tokens 0.735 / 1.14 / 1.65 / 3.44 ms,
 * cross-attention 1024x77 0.067 / 0.099 / 0.144 / 0.294 ms, at 4096 tokens 6.61 / 6.80 / 6.91 /
 * 14.0 ms (bench/nvidia/h200-attention-subgroup-rows-*.json).
 */
const subgroupRows = (laneGroups: number): number => (laneGroups > 1 ? 1 : 4);
/**
 * Largest head size the subgroup kernel is the default for: beyond it (d160) its per-invocation
 * arrays no longer unroll into registers and it measured 2× slower than `blocked` on lavapipe.
 */
const SUBGROUP_MAX_D = 80;
const SUBGROUP_LANES = 8;
const SIMPLE_WG = 16;

/**
 * Fused multi-head scaled dot-product attention: per batch and head, softmax(scale·q·kᵀ)·v. The
 * score matrix is never stored (online softmax over blocks of keys), so memory is O(sequence
 * length): only the output is allocated.
 *
 * @param q queries `[batch, Lq, heads·d]`
 * @param k keys `[batch, Lk, heads·d]` (Lk may differ from Lq: cross-attention)
 * @param v values `[batch, Lk, heads·d]`
 * @returns `[batch, Lq, heads·d]`, the heads side by side as the inputs; q's dtype (f32 or f16
 *   storage, f32 arithmetic).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions): Tensor {
  const op = 'attention';
  checkInputs(op, [q, k, v], 'float');
  checkSameDType(op, [q, k, v]);
  checkRank(op, 'q', q, 3);
  checkRank(op, 'k', k, 3);
  checkRank(op, 'v', v, 3);
  const { heads } = options;
  const [batch, lq, width] = q.shape;
  const lk = k.shape[1];
  const shapes = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  if (k.shape[0] !== batch || v.shape[0] !== batch) throw new ShapeError(`${op}: batch sizes differ: ${shapes}`);
  if (k.shape[2] !== width || v.shape[2] !== width) throw new ShapeError(`${op}: feature sizes differ: ${shapes}`);
  if (v.shape[1] !== lk) throw new ShapeError(`${op}: k and v have different lengths: ${shapes}`);
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0 || width === 0) {
    throw new ShapeError(`${op}: feature size ${width} of ${shapes} does not split into ${heads} heads`);
  }
  if (lk === 0 && lq > 0) throw new ShapeError(`${op}: no keys to attend to: ${shapes}`);
  const d = width / heads;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const causal = options.causal ?? false;
  const variant = pickAttentionVariant(q, k, v, options, d);

  if (q.size === 0) return empty(q.device, q.shape, q.dtype);
  if (variant === 'scores') return attentionViaScores(q, k, v, heads, scale, causal);
  const out = empty(q.device, q.shape, q.dtype);
  const groups = batch * heads;
  // q·kᵀ and p·v (4d FLOPs per score) plus ~20 for its exp.
  const flops = groups * lq * lk * (4 * d + 20);
  const types = { T: q.dtype };
  if (variant === 'simple' || d % 4 !== 0) {
    const rows = groups * lq;
    const workgroups = Math.ceil(rows / SIMPLE_WG);
    q.device.run({
      shader: 'attention_simple',
      types,
      consts: { D: d, WG: SIMPLE_WG, CAUSAL: causal },
      inputs: [q, k, v],
      outputs: [out],
      params: new Params().u32(lq, lk, heads, rows).f32(scale).bytes(),
      workgroups: grid(workgroups),
      cost: flops + 4 * (q.bytes + out.bytes + ((k.bytes + v.bytes) * workgroups) / groups),
      flops: 4 * groups * lq * lk * d,
    });
    return out;
  }
  const subgroup = variant === 'subgroup';
  const blocked = { ...BLOCKED, ROWS: blockedRows(d) };
  const rows = subgroupRows(q.device.laneGroups);
  const rowsPerTile = subgroup ? SUBGROUP_LANES * rows : blocked.WG * blocked.ROWS;
  const tiles = Math.ceil(lq / rowsPerTile);
  // Subgroup tiles per workgroup (shaders/attention_subgroup.wgsl); a causal workgroup is one tile.
  const laneGroups = subgroup && !causal ? q.device.laneGroups : 1;
  const launch: KernelLaunch = {
    shader: subgroup ? 'attention_subgroup' : 'attention',
    types: { ...types, T4: vectorType(q.dtype, true) },
    consts: subgroup ? { D: d, ROWS: rows, GROUPS: laneGroups, CAUSAL: causal } : { D: d, ...blocked, CAUSAL: causal },
    inputs: [q, k, v],
    outputs: [out],
    params: new Params().u32(lq, lk, heads, tiles, groups).f32(scale * Math.LOG2E).u32(d / 4).bytes(),
    workgroups: grid(Math.ceil((groups * tiles) / laneGroups)),
    cost: flops + 4 * (q.bytes + out.bytes + (k.bytes + v.bytes) * tiles),
    flops: 4 * groups * lq * lk * d,
  };
  q.device.run({ ...launch, subgroups: subgroup });
  return out;
}

/**
 * Largest block of f32 scores `scores` stores at once: longer sequences are taken in chunks of
 * query rows, each with its own q·kᵀ, softmax and p·v.
 */
const SCORES_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * `scores`: S = q·kᵀ per (batch, head) kept in f32, P = softmax(scale·S) (causal-masked) in q's
 * dtype, out = P·v; in chunks of query rows of at most SCORES_CHUNK_BYTES of scores. Heads are
 * split into a batch axis by a permute (a reshape for one head).
 */
function attentionViaScores(q: Tensor, k: Tensor, v: Tensor, heads: number, scale: number, causal: boolean): Tensor {
  const [batch, lq, width] = q.shape;
  const lk = k.shape[1];
  const d = width / heads;
  const device = q.device;
  const split = (t: Tensor): Tensor => {
    const byHead = t.reshape([batch, t.shape[1], heads, d]);
    return heads === 1 ? byHead.reshape([batch, 1, t.shape[1], d]) : permute(byHead, [0, 2, 1, 3]);
  };
  // One query row's scores (batch·heads·Lk in f32) are no larger than k: a chunk always binds.
  const rowsPerChunk = Math.max(1, Math.floor(SCORES_CHUNK_BYTES / (batch * heads * lk * 4)));
  return device.scope(() => {
    const [qh, kh, vh] = [split(q), split(k), split(v)];
    const chunks: Tensor[] = [];
    for (let start = 0; start < lq; start += rowsPerChunk) {
      const end = Math.min(lq, start + rowsPerChunk);
      // Each chunk's scores are freed before the next is made (the pool reuses their buffers).
      chunks.push(device.scope(() => {
        const qc = end - start === lq ? qh : sliceAxis(qh, 2, start, end);
        const scores = matmul(qc, kh, { transposeB: true, outDtype: 'f32' });
        return matmul(softmax(scores, { scale, causal, queryOffset: start, dtype: q.dtype as 'f32' | 'f16' }), vh);
      }));
    }
    const o = chunks.length === 1 ? chunks[0] : concat(chunks, 2);
    return heads === 1 ? o.reshape([batch, lq, width]) : permute(o, [0, 2, 1, 3]).reshape([batch, lq, width]);
  });
}

/**
 * Smallest f32 score matrix (all batches and heads of a call) for which `Device.autotune` times
 * `scores` against the fused kernel: below 256 KiB (a 256 px step's 8x8 level) either kernel takes
 * microseconds, and a near-tie could flip the choice, and so the numerics, from run to run.
 */
const SCORES_TUNE_MIN_BYTES = 256 * 2 ** 10;

/**
 * The requested variant. By default: `scores` where `blocked` would have to hold fewer than its
 * ROWS rows (d > 160); else the fused kernel (`subgroup` where the device has subgroups and
 * d ≤ SUBGROUP_MAX_D, else `blocked`), or `scores` where `Device.autotune` found it faster for
 * this call's shapes (it is on NVIDIA GPUs, not on lavapipe: bench/RESULTS.md).
 */
function pickAttentionVariant(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, d: number): (typeof ATTENTION_VARIANTS)[number] {
  const device = q.device;
  const requested = options.variant;
  const variant = pickVariant('attention', ATTENTION_VARIANTS, requested);
  if (requested !== undefined) {
    if (variant === 'subgroup' && !hasSubgroups(device)) {
      throw new Error(`attention: variant 'subgroup' needs the 'subgroups' feature with subgroups of at least 8 invocations, which this device lacks`);
    }
    return variant;
  }
  if (blockedRows(d) < BLOCKED.ROWS) return 'scores';
  const fused = d <= SUBGROUP_MAX_D && hasSubgroups(device) ? 'subgroup' : 'blocked';
  if (q.shape[0] * options.heads * q.shape[1] * k.shape[1] * 4 < SCORES_TUNE_MIN_BYTES) return fused;
  const call = tunable(q, k, v, options, [fused, 'scores']);
  const tuned = device.tuning.choice(call.key);
  if (tuned === fused || tuned === 'scores') return tuned;
  device.tuning.offer(call);
  return fused;
}

/** The choice between the fused kernel and `scores` for this call's shapes and options, to time. */
function tunable(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions, candidates: readonly string[]): Tunable {
  const device = q.device;
  return {
    key: `attention ${q.dtype} q ${fmt(q.shape)} k ${fmt(k.shape)} heads ${options.heads}${options.causal ? ' causal' : ''}`,
    candidates,
    prepare: () => {
      const [qz, kz, vz] = [q, k, v].map((t) => zeros(device, t.shape, t.dtype));
      return {
        run: (variant) => device.scope(() => void attention(qz, kz, vz, { ...options, variant })),
        dispose: () => [qz, kz, vz].forEach((t) => t.dispose()),
      };
    },
  };
}
