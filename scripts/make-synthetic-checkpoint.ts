// Writes a safetensors checkpoint with the real UniControl v1.1 layout (every key, shape and dtype of
// ControlLDM.state_dict(), in state-dict order) but random weights, so that loading, memory and
// speed can be exercised at full size without the real 5.8 GB download. Values follow the oracle's
// init so activations stay in a sane range; the diffusion schedule buffers hold their real values.
//
//   npm run weights:synthetic [-- --out FILE] [--seed N] [--dtype f32|f16] [--keys FILE] [--force]
//
// Streaming: the header goes first, then each tensor in chunks of CHUNK_ELEMENTS; at most two
// chunks live at once (one being generated, one being written).

import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FileHandle } from 'node:fs/promises';
import { toHalf } from '@unicontrol/core';
import { SCHEDULE_BUFFERS } from '@unicontrol/model';

/** One state-dict entry as listed in real_keys.json (`dtype` a torch name like `float32`) or a safetensors header (`F32`). */
export interface KeySpec {
  name: string;
  shape: readonly number[];
  dtype: string;
}

/** Storage for the float tensors: float32, or float16 with the schedule buffers kept float32. */
export type SyntheticDType = 'f32' | 'f16';

export interface SyntheticOptions {
  /** The tensors to write, in file order. */
  keys: readonly KeySpec[];
  /** PRNG seed, an integer in [0, 2^32). Default 0. */
  seed?: number;
  dtype?: SyntheticDType;
  /** Where the key list came from, recorded in `__metadata__`. */
  source?: string;
}

/** How one tensor's values are made. */
export type TensorInit =
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'schedule' }
  | { kind: 'positions' };

/** One tensor as it will lie in the file. */
export interface PlannedTensor {
  name: string;
  shape: number[];
  fileDType: 'F32' | 'F16' | 'I64';
  init: TensorInit;
  /** Byte offset in the data section. */
  begin: number;
  byteLength: number;
}

/** The whole file laid out: header bytes (with the 8-byte length prefix and padding) and tensors. */
export interface CheckpointPlan {
  header: Uint8Array;
  tensors: PlannedTensor[];
  /** File size in bytes. */
  totalBytes: number;
}

/** The oracle's init (fixtures manifest `weights.init`): biases, norm affine parameters, embeddings. */
export const INIT = { biasStd: 0.05, normWeightStd: 0.1, normBiasStd: 0.1, embeddingStd: 0.3 } as const;

/** LatentDiffusion's buffers (no key prefix): real values from the linear beta schedule. */
export const SCHEDULE_NAMES = SCHEDULE_BUFFERS;

/** Elements generated per chunk (4 MiB as float32). Even, so normal pairs never straddle chunks. */
const CHUNK_ELEMENTS = 1 << 20;

const FLOAT_NAMES = new Set(['float32', 'float16', 'bfloat16', 'float64', 'F32', 'F16', 'BF16', 'F64']);
const INT_NAMES = new Set(['int64', 'I64']);
const BYTES = { F32: 4, F16: 2, I64: 8 } as const;

// ---- layout ----

/** Decides each tensor's init and file dtype and lays out the header. Throws on keys it cannot fill. */
export function planCheckpoint({ keys, seed = 0, dtype = 'f32', source = 'unknown' }: SyntheticOptions): CheckpointPlan {
  checkSeed(seed);
  if (dtype !== 'f32' && dtype !== 'f16') throw new Error(`dtype must be f32 or f16, got ${dtype}`);
  const shapes = new Map(keys.map((k) => [k.name, k.shape]));
  let begin = 0;
  const tensors = keys.map((k): PlannedTensor => {
    const init = initFor(k, shapes);
    const fileDType: PlannedTensor['fileDType'] = init.kind === 'positions' ? 'I64' : init.kind === 'schedule' || dtype === 'f32' ? 'F32' : 'F16';
    const byteLength = numel(k.shape) * BYTES[fileDType];
    const t = { name: k.name, shape: [...k.shape], fileDType, init, begin, byteLength };
    begin += byteLength;
    return t;
  });
  const metadata = {
    format: 'pt',
    note: 'SYNTHETIC: random weights in the real UniControl v1.1 layout, not a trained model; schedule buffers hold the real values',
    seed: String(seed),
    source_keys: source,
    init: `conv/linear weight N(0, 1/fan_in); bias N(0, ${INIT.biasStd}^2); norm weight 1+N(0, ${INIT.normWeightStd}^2), norm bias N(0, ${INIT.normBiasStd}^2); embeddings N(0, ${INIT.embeddingStd}^2)`,
    dtype: dtype === 'f32' ? 'float32' : 'float16 (schedule buffers float32)',
  };
  // Written by hand so the file order is the key order whatever the names look like.
  const entries = [`"__metadata__":${JSON.stringify(metadata)}`].concat(
    tensors.map((t) => `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.fileDType, shape: t.shape, data_offsets: [t.begin, t.begin + t.byteLength] })}`),
  );
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  // Spaces after the JSON make the data section start 8-byte aligned (the 8-byte prefix keeps that).
  const jsonLength = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + jsonLength).fill(0x20, 8);
  new DataView(header.buffer).setBigUint64(0, BigInt(jsonLength), true);
  header.set(json, 8);
  return { header, tensors, totalBytes: header.length + begin };
}

/**
 * The init of one key. 1-D `.weight`s are norm scales (every conv/linear weight here is ≥ 2-D) and a
 * `.bias` beside one is a norm shift; `*embedding.weight` are embedding tables; other ≥ 2-D weights
 * are conv/linear with fan_in = product of shape[1:].
 */
export function initFor(key: KeySpec, shapes: ReadonlyMap<string, readonly number[]>): TensorInit {
  const { name, shape, dtype } = key;
  const at = `tensor ${JSON.stringify(name)} (shape [${shape.join(', ')}], dtype ${dtype})`;
  if (INT_NAMES.has(dtype)) {
    if (name.endsWith('position_ids')) return { kind: 'positions' };
    throw new Error(`${at}: the only integer tensors this script can fill are position_ids`);
  }
  if (!FLOAT_NAMES.has(dtype)) throw new Error(`${at}: unknown dtype`);
  if ((SCHEDULE_NAMES as readonly string[]).includes(name)) {
    if (shape.length !== 1) throw new Error(`${at}: schedule buffers are 1-D`);
    return { kind: 'schedule' };
  }
  const prefix = name.slice(0, name.lastIndexOf('.') + 1);
  if (name.endsWith('.weight') && shape.length === 1) return { kind: 'normal', mean: 1, std: INIT.normWeightStd };
  if (name.endsWith('.bias') && shape.length === 1) {
    const isNorm = shapes.get(`${prefix}weight`)?.length === 1;
    return { kind: 'normal', mean: 0, std: isNorm ? INIT.normBiasStd : INIT.biasStd };
  }
  if (name.endsWith('embedding.weight')) return { kind: 'normal', mean: 0, std: INIT.embeddingStd };
  if (name.endsWith('.weight') && shape.length >= 2) return { kind: 'normal', mean: 0, std: 1 / Math.sqrt(numel(shape.slice(1))) };
  throw new Error(`${at}: no init rule (not a schedule buffer, position_ids, norm, bias, embedding or conv/linear weight)`);
}

// ---- the real schedule ----

/**
 * LatentDiffusion.register_schedule for the linear schedule (linear_start 0.00085, linear_end 0.012,
 * v_posterior 0), in float64 as the official code computes it, before the cast to float32.
 */
export function ldmSchedule(timesteps: number, linearStart = 0.00085, linearEnd = 0.012): Map<string, Float64Array> {
  const map = (f: (i: number) => number) => Float64Array.from({ length: timesteps }, (_, i) => f(i));
  // torch.linspace: from the start for the first half, from the end for the second (bit-exact).
  const a = Math.sqrt(linearStart);
  const b = Math.sqrt(linearEnd);
  const step = (b - a) / (timesteps - 1);
  const half = Math.floor(timesteps / 2);
  const betas = map((i) => (i < half ? a + step * i : b - step * (timesteps - 1 - i)) ** 2);
  const ac = new Float64Array(timesteps);
  for (let i = 0, p = 1; i < timesteps; i++) ac[i] = p *= 1 - betas[i];
  const prev = map((i) => (i === 0 ? 1 : ac[i - 1]));
  const variance = map((i) => (betas[i] * (1 - prev[i])) / (1 - ac[i]));
  return new Map([
    ['betas', betas],
    ['alphas_cumprod', ac],
    ['alphas_cumprod_prev', prev],
    ['sqrt_alphas_cumprod', map((i) => Math.sqrt(ac[i]))],
    ['sqrt_one_minus_alphas_cumprod', map((i) => Math.sqrt(1 - ac[i]))],
    ['log_one_minus_alphas_cumprod', map((i) => Math.log(1 - ac[i]))],
    ['sqrt_recip_alphas_cumprod', map((i) => Math.sqrt(1 / ac[i]))],
    ['sqrt_recipm1_alphas_cumprod', map((i) => Math.sqrt(1 / ac[i] - 1))],
    ['posterior_variance', variance],
    ['posterior_log_variance_clipped', map((i) => Math.log(Math.max(variance[i], 1e-20)))],
    ['posterior_mean_coef1', map((i) => (betas[i] * Math.sqrt(prev[i])) / (1 - ac[i]))],
    ['posterior_mean_coef2', map((i) => ((1 - prev[i]) * Math.sqrt(1 - betas[i])) / (1 - ac[i]))],
    ['logvar', new Float64Array(timesteps)],
  ]);
}

// ---- seeded normals ----

/**
 * Standard normals from xorshift128 (Marsaglia) through the polar Box-Muller method: one log and one
 * sqrt per pair, no trigonometry (~100 M values/s on one core here). Each tensor gets its own
 * stream, seeded from the global seed and the tensor's name, so a tensor's values do not depend on
 * which other keys are in the file.
 */
export class NormalStream {
  private s = new Int32Array(4);

  constructor(seed: number, name: string) {
    let h = (0x811c9dc5 ^ seed) >>> 0; // FNV-1a over the name, starting from the seed
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    // splitmix32 spreads the 32-bit hash over the 128-bit state (never all zero).
    for (let i = 0; i < 4; i++) {
      h = (h + 0x9e3779b9) | 0;
      let z = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = z ^ (z >>> 16) || 1;
    }
  }

  /** Fills `out[0, n)` with mean + std · N(0, 1). An odd `n` drops the pair's second value. */
  fill(out: Float32Array, n: number, mean: number, std: number): void {
    let [a, b, c, d] = this.s;
    for (let i = 0; i < n; ) {
      let t = a ^ (a << 11);
      a = b; b = c; c = d;
      d = d ^ (d >>> 19) ^ (t ^ (t >>> 8));
      const u = d * 4.656612873077393e-10; // 2^-31: a uniform in [-1, 1)
      t = a ^ (a << 11);
      a = b; b = c; c = d;
      d = d ^ (d >>> 19) ^ (t ^ (t >>> 8));
      const v = d * 4.656612873077393e-10;
      const q = u * u + v * v;
      if (q >= 1 || q === 0) continue;
      const f = std * Math.sqrt((-2 * Math.log(q)) / q);
      out[i++] = mean + u * f;
      if (i < n) out[i++] = mean + v * f;
    }
    this.s.set([a, b, c, d]);
  }
}

// ---- writing ----

/** Writes chunks in order at increasing positions, keeping one write in flight while the next chunk is made. */
class SequentialWriter {
  private pending: Promise<void> = Promise.resolve();
  private position = 0;
  private done = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly onWritten: (bytes: number) => void,
  ) {}

  /** Starts writing `bytes` after the previous chunk; `bytes` must stay untouched until the next `write`/`flush` returns. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.pending;
    const at = this.position;
    this.position += bytes.length;
    this.pending = this.writeAll(bytes, at);
    this.pending.catch(() => {}); // surfaces at the next write/flush, not as an unhandled rejection
  }

  async flush(): Promise<void> {
    await this.pending;
  }

  private async writeAll(bytes: Uint8Array, at: number): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.file.write(bytes, off, bytes.length - off, at + off);
      off += bytesWritten;
    }
    this.done += bytes.length;
    this.onWritten(this.done);
  }
}

/** Options of `writeSyntheticCheckpoint()`. */
export interface WriteOptions extends SyntheticOptions {
  /** Output path; written to `out + '.partial'` and renamed when complete. */
  out: string;
  /** Called after each chunk lands with bytes written so far and the file size. */
  onProgress?: (written: number, total: number) => void;
}

/**
 * Streams a synthetic checkpoint to `out`: header first, then every tensor in key order, never
 * holding more than two chunks of values. Returns the plan (sizes, layout) it wrote.
 */
export async function writeSyntheticCheckpoint(options: WriteOptions): Promise<CheckpointPlan> {
  const { out, seed = 0, onProgress } = options;
  const plan = planCheckpoint(options);
  const partial = `${out}.partial`;
  await mkdir(dirname(resolve(out)), { recursive: true });
  const file = await open(partial, 'w');
  try {
    const writer = new SequentialWriter(file, (n) => onProgress?.(n, plan.totalBytes));
    await writer.write(plan.header);
    // Two buffers: one is generated into while the other is being written.
    const buffers = [new Float32Array(CHUNK_ELEMENTS), new Float32Array(CHUNK_ELEMENTS)];
    let which = 0;
    for (const t of plan.tensors) {
      const n = numel(t.shape);
      if (t.init.kind === 'positions') {
        const last = t.shape[t.shape.length - 1] ?? 1;
        await writer.write(bytesOf(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % last))));
      } else if (t.init.kind === 'schedule') {
        await writer.write(bytesOf(Float32Array.from(ldmSchedule(n).get(t.name)!)));
      } else {
        const rng = new NormalStream(seed, t.name);
        for (let done = 0; done < n; done += CHUNK_ELEMENTS) {
          const count = Math.min(CHUNK_ELEMENTS, n - done);
          const chunk = buffers[which].subarray(0, count);
          which ^= 1;
          rng.fill(chunk, count, t.init.mean, t.init.std);
          await writer.write(t.fileDType === 'F16' ? bytesOf(toHalf(chunk)) : bytesOf(chunk));
        }
      }
    }
    await writer.flush();
    await file.datasync(); // the final name appears only for a complete file
    await file.close();
    await rename(partial, out);
  } catch (e) {
    await file.close().catch(() => {});
    await rm(partial, { force: true });
    throw e;
  }
  return plan;
}

/** True when `out` exists with the plan's size and exactly its header (same keys, seed, dtype). */
export async function isUpToDate(out: string, plan: CheckpointPlan): Promise<boolean> {
  const size = await stat(out).then((s) => s.size, () => -1);
  if (size !== plan.totalBytes) return false;
  const file = await open(out, 'r');
  try {
    const head = new Uint8Array(plan.header.length);
    await file.read(head, 0, head.length, 0);
    return Buffer.compare(head, plan.header) === 0;
  } finally {
    await file.close();
  }
}

/** Reads a real_keys.json-style file: `{ keys: [{ name, shape, dtype }] }`. */
export async function readKeyList(path: string): Promise<KeySpec[]> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(parsed.keys)) throw new Error(`${path}: expected an object with a "keys" array`);
  return parsed.keys as KeySpec[];
}

function numel(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function bytesOf(a: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`seed must be an integer in [0, 2^32), got ${seed}`);
}

// ---- command line ----

const REPO = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_KEYS = resolve(REPO, '../shared/fixtures/tiny/real_keys.json');
const DEFAULT_OUT = resolve(REPO, 'weights/synthetic-unicontrol-v1.1.safetensors');

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      out: { type: 'string', default: DEFAULT_OUT },
      seed: { type: 'string', default: '0' },
      dtype: { type: 'string', default: 'f32' },
      keys: { type: 'string', default: DEFAULT_KEYS },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    process.stdout.write(
      `Usage: npm run weights:synthetic [-- --out FILE] [--seed N] [--dtype f32|f16] [--keys FILE] [--force]\n` +
        `Writes a random-weight UniControl v1.1 checkpoint (default ${relative(process.cwd(), DEFAULT_OUT)}).\n`,
    );
    return;
  }
  if (args.dtype !== 'f32' && args.dtype !== 'f16') throw new Error(`--dtype must be f32 or f16, got ${args.dtype}`);
  const seed = Number(args.seed);
  const keysPath = resolve(args.keys);
  const options = { keys: await readKeyList(keysPath), seed, dtype: args.dtype, source: relative(REPO, keysPath) } as const;
  const out = resolve(args.out);
  const plan = planCheckpoint(options);
  if (!args.force && (await isUpToDate(out, plan))) {
    process.stderr.write(`${out} is up to date (${mb(plan.totalBytes)} MB, ${plan.tensors.length} tensors); --force rewrites it\n`);
    return;
  }
  const start = performance.now();
  let lastReport = 0;
  await writeSyntheticCheckpoint({
    ...options,
    out,
    onProgress(written, total) {
      const now = performance.now();
      if (now - lastReport < 1000 && written < total) return;
      lastReport = now;
      const rate = written / 1e6 / ((now - start) / 1000);
      const line = `${mb(written)} / ${mb(total)} MB (${((100 * written) / total).toFixed(1)}%), ${rate.toFixed(0)} MB/s`;
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  process.stderr.write(
    `${process.stderr.isTTY ? '\n' : ''}wrote ${out}: ${plan.totalBytes} bytes (${mb(plan.totalBytes)} MB), ${plan.tensors.length} tensors, ` +
      `${args.dtype}, seed ${seed}, ${seconds.toFixed(1)} s (${(plan.totalBytes / 1e6 / seconds).toFixed(0)} MB/s), peak RSS ${rssMB.toFixed(0)} MB\n`,
  );
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`make-synthetic-checkpoint: ${e.message}\n`);
    process.exit(1);
  });
}
