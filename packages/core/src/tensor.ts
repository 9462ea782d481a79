import type { Device } from './device.ts';
import { BYTES, type DType } from './dtype.ts';
import { ShapeError, fmt } from './errors.ts';
import { fromHalf, toHalf } from './f16.ts';
import { Params, grid } from './kernel.ts';
import { checkShape, numel, type Shape } from './shape.ts';

/** A GPU buffer shared by a tensor and its views; freed when the last of them is disposed. */
class Storage {
  refs = 1;
  constructor(
    readonly device: Device,
    readonly buffer: GPUBuffer,
    readonly exact: boolean,
  ) {}

  release(): void {
    if (--this.refs === 0) this.device.pool.release(this.buffer, this.exact);
  }
}

/**
 * A dense, row-major tensor in one GPU buffer. Ops record work and return new tensors without
 * waiting; `read()` is the only way back to the CPU. Dispose tensors you no longer need, or make
 * them inside `device.scope()`.
 */
export class Tensor {
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  private storage: Storage | null;

  /** @internal Use `tensor()`, `zeros()` or an op. */
  constructor(
    readonly device: Device,
    storage: Storage,
    shape: Shape,
    readonly dtype: DType,
  ) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = numel(shape);
    device.scopes.track(this);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The GPU buffer holding the elements (possibly larger than `size` × bytes per element). */
  get buffer(): GPUBuffer {
    if (!this.storage) throw new Error(`tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
    return this.storage.buffer;
  }

  /** Bytes the elements occupy (not counting the buffer's size-class slack). */
  get bytes(): number {
    return this.size * BYTES[this.dtype];
  }

  /** A view with another shape over the same elements (no copy). One dimension may be -1. */
  reshape(shape: Shape): Tensor {
    const resolved = resolveReshape(this.shape, shape);
    const storage = this.live('reshape');
    storage.refs++;
    return new Tensor(this.device, storage, resolved, this.dtype);
  }

  /** Releases this tensor's hold on its buffer. Safe to call twice. */
  dispose(): void {
    this.storage?.release();
    this.storage = null;
  }

  /** Keeps this tensor alive past the scope that made it. Returns itself. */
  keep(): this {
    this.device.scopes.keep(this);
    return this;
  }

  /** Copies the elements to the CPU: float32 for f32 and f16 tensors, int32 for i32. */
  async read(): Promise<Float32Array | Int32Array> {
    const raw = await this.readRaw();
    if (this.dtype === 'f16') return fromHalf(new Uint16Array(raw, 0, this.size));
    return this.dtype === 'i32' ? new Int32Array(raw, 0, this.size) : new Float32Array(raw, 0, this.size);
  }

  /** Copies the raw bytes of the elements to the CPU. */
  async readRaw(): Promise<ArrayBuffer> {
    const buffer = this.live('read').buffer;
    this.device.check();
    if (this.size === 0) return new ArrayBuffer(0);
    const out = await this.device.recorder.read(buffer, 0, this.bytes);
    this.device.check();
    return out;
  }

  /** Throws unless the tensor is live; returns its storage. */
  private live(op: string): Storage {
    if (!this.storage) throw new Error(`${op}: tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
    return this.storage;
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.disposed ? ', disposed' : ''})`;
  }
}

function resolveReshape(from: Shape, to: Shape): number[] {
  const out = [...to];
  const free = out.indexOf(-1);
  if (free >= 0) {
    const rest = numel(out.filter((_, i) => i !== free));
    if (rest === 0 || numel(from) % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmt(from)} to ${fmt(to)}`);
    out[free] = numel(from) / rest;
  }
  checkShape('reshape', out);
  if (numel(out) !== numel(from)) throw new ShapeError(`reshape: cannot reshape ${fmt(from)} to ${fmt(to)}`);
  return out;
}

/** An uninitialised tensor for an op to write (filled with NaN when the device poisons outputs). */
export function empty(device: Device, shape: Shape, dtype: DType = 'f32'): Tensor {
  checkShape('empty', shape);
  device.checkDType('empty', dtype);
  const bytes = numel(shape) * BYTES[dtype];
  const t = new Tensor(device, new Storage(device, device.pool.acquire(bytes), false), shape, dtype);
  if (device.poisonOutputs) fill(t, 0xffffffff);
  return t;
}

/** Fills a tensor's buffer with a 32-bit pattern (0 = zeros for every dtype, all-ones = NaN). */
function fill(t: Tensor, bits: number): void {
  const words = Math.ceil(t.bytes / 4);
  if (words === 0) return;
  t.device.run({
    shader: 'fill',
    inputs: [],
    outputs: [t],
    params: new Params().u32(words, bits).bytes(),
    workgroups: grid(Math.ceil(words / 256)),
    cost: 4 * t.bytes,
  });
}

/** A tensor of zeros. */
export function zeros(device: Device, shape: Shape, dtype: DType = 'f32'): Tensor {
  const t = empty(device, shape, dtype);
  fill(t, 0);
  return t;
}

/** Options for `tensor()`. */
export interface TensorOptions {
  /** Storage dtype. Defaults to `i32` for an Int32Array and `f32` otherwise; `f16` converts on upload. */
  dtype?: DType;
  /** Allocate an exact-size buffer outside the pool (weights). */
  exact?: boolean;
}

/**
 * Uploads CPU data as a tensor of `shape` ([batch, channels, height, width] for images).
 * Float data may be stored as float16 (`dtype: 'f16'`); `data` may also hold float16 bits.
 */
export function tensor(
  device: Device,
  data: Float32Array | Int32Array | Uint16Array | readonly number[],
  shape: Shape,
  options: TensorOptions = {},
): Tensor {
  checkShape('tensor', shape);
  const dtype = options.dtype ?? (data instanceof Int32Array ? 'i32' : data instanceof Uint16Array ? 'f16' : 'f32');
  device.checkDType('tensor', dtype);
  const n = numel(shape);
  if (data.length !== n) {
    throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmt(shape)} (${n} elements)`);
  }
  let bytes: ArrayBufferView;
  if (dtype === 'f16') bytes = data instanceof Uint16Array ? data : toHalf(data);
  else if (dtype === 'i32') bytes = data instanceof Int32Array ? data : Int32Array.from(data);
  else if (data instanceof Uint16Array) bytes = fromHalf(data);
  else bytes = data instanceof Float32Array ? data : Float32Array.from(data);
  return upload(device, bytes, shape, dtype, options.exact ?? false);
}

/** Uploads raw element bytes (already in `dtype`'s encoding) as a new tensor. */
export function upload(device: Device, bytes: ArrayBufferView, shape: Shape, dtype: DType, exact = false): Tensor {
  device.check();
  const buffer = device.pool.acquire(bytes.byteLength, exact);
  const t = new Tensor(device, new Storage(device, buffer, exact), shape, dtype);
  // queue.writeBuffer runs before any later submission: if recorded, unsubmitted work still
  // reads this (possibly reused) buffer's old contents, submit that work first.
  if (device.recorder.pending > 0) device.recorder.flush();
  // The copy is work the next wait covers: counted like a kernel's bytes moved (a taint here would
  // keep the quiet wait from ever learning in a sampling loop, which uploads its timestep each step).
  device.recorder.wait.add(4 * bytes.byteLength);
  const aligned = bytes.byteLength - (bytes.byteLength % 4);
  if (aligned > 0) device.gpu.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, aligned);
  if (aligned < bytes.byteLength) {
    const tail = new Uint8Array(4);
    tail.set(new Uint8Array(bytes.buffer, bytes.byteOffset + aligned, bytes.byteLength - aligned));
    device.gpu.queue.writeBuffer(buffer, aligned, tail);
  }
  return t;
}
