import { BufferPool } from './memory.ts';

/** One bound buffer range. */
export interface BufferBinding {
  buffer: GPUBuffer;
  /** Bytes from the start of the buffer (default 0). */
  offset?: number;
  size: number;
}

interface Entry {
  group: GPUBindGroup;
  /** Ids of the buffers it binds, to unlink it from `byBuffer` when it goes. */
  buffers: number[];
}

/**
 * Bind groups reused across dispatches that bind the same layout to the same buffer ranges. A
 * sampling step allocates its activations in the same order every time, so the pool hands back
 * the same buffers and a repeated step finds all its bind groups here. Least recently used
 * entries go beyond `capacity`; entries of a destroyed buffer go at once (`forget`).
 */
export class BindGroupCache {
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  /** In least-recently-used-first order: a hit moves its entry to the end. */
  private readonly groups = new Map<string, Entry>();
  private readonly byBuffer = new Map<number, Set<string>>();
  /** Bind groups created since the cache was made. */
  created = 0;
  /** Lookups that found a bind group since the cache was made. */
  reused = 0;

  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 16384,
  ) {}

  /** Bind groups held. */
  get size(): number {
    return this.groups.size;
  }

  /** The bind group of `layout` with `bindings[i]` at binding `first + i`, made on a miss. */
  get(layout: GPUBindGroupLayout, bindings: readonly BufferBinding[], first = 0): GPUBindGroup {
    const buffers = bindings.map((b) => this.id(b.buffer));
    let key = `${this.id(layout)}/${first}`;
    bindings.forEach((b, i) => (key += `,${buffers[i]}:${b.offset ?? 0}:${b.size}`));
    const hit = this.groups.get(key);
    if (hit) {
      this.groups.delete(key);
      this.groups.set(key, hit);
      this.reused++;
      return hit.group;
    }
    const group = this.device.createBindGroup({
      layout,
      entries: bindings.map((resource, i) => ({ binding: first + i, resource })),
    });
    this.created++;
    this.groups.set(key, { group, buffers });
    for (const id of buffers) {
      let keys = this.byBuffer.get(id);
      if (!keys) this.byBuffer.set(id, (keys = new Set()));
      keys.add(key);
    }
    if (this.groups.size > this.capacity) this.drop(this.groups.keys().next().value!);
    return group;
  }

  /** Drops every bind group that binds `buffer` (call before destroying it). */
  forget(buffer: GPUBuffer): void {
    const id = this.ids.get(buffer);
    const keys = id === undefined ? undefined : this.byBuffer.get(id);
    if (keys) for (const key of [...keys]) this.drop(key);
  }

  clear(): void {
    this.groups.clear();
    this.byBuffer.clear();
  }

  private drop(key: string): void {
    const entry = this.groups.get(key);
    if (!entry) return;
    this.groups.delete(key);
    for (const id of entry.buffers) {
      const keys = this.byBuffer.get(id);
      keys?.delete(key);
      if (keys?.size === 0) this.byBuffer.delete(id);
    }
  }

  /** A number per object, stable for its lifetime (GPU objects have no identity usable as a key). */
  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }
}

/**
 * A buffer pool that tells `onDestroy` about each buffer before destroying it (exact-size buffers
 * on release, pooled ones on `trim()`), so no cached bind group outlives its buffer.
 */
export class ForgettingPool extends BufferPool {
  /** The buffers the pool holds free, which `trim()` destroys. */
  private readonly idle = new Set<GPUBuffer>();

  constructor(
    device: GPUDevice,
    maxBufferSize: number,
    private readonly onDestroy: (buffer: GPUBuffer) => void,
  ) {
    super(device, maxBufferSize);
  }

  override acquire(bytes: number, exact = false): GPUBuffer {
    const buffer = super.acquire(bytes, exact);
    this.idle.delete(buffer);
    return buffer;
  }

  override release(buffer: GPUBuffer, exact = false): void {
    if (exact) this.onDestroy(buffer);
    else this.idle.add(buffer);
    super.release(buffer, exact);
  }

  override trim(): void {
    for (const b of this.idle) this.onDestroy(b);
    this.idle.clear();
    super.trim();
  }
}
