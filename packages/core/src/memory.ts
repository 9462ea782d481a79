/** GPU memory accounting, in bytes of GPU buffers this library holds. */
export interface MemoryStats {
  /** Bytes of buffers backing live tensors (and internal scratch in use). */
  liveBytes: number;
  /** Buffers backing live tensors. */
  liveBuffers: number;
  /** Highest `liveBytes` seen since the device was made or `resetPeak()`. */
  peakBytes: number;
  /** Bytes of free buffers kept by the pool for reuse. */
  pooledBytes: number;
  pooledBuffers: number;
  /**
   * Highest `liveBytes + pooledBytes` seen since the device was made or `resetPeak()`: the GPU
   * memory this library had allocated at its peak, free pooled buffers included.
   */
  peakAllocatedBytes: number;
}

const STORAGE_USAGE = GPUBufferUsageFlags();

function GPUBufferUsageFlags(): number {
  // GPUBufferUsage is a global in browsers and after `webgpu`'s globals are installed in Node;
  // the numeric values are fixed by the spec, so use them directly and avoid an import-order dependency.
  const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08;
  return STORAGE | COPY_SRC | COPY_DST;
}

/**
 * Rounds a request up to a size class: powers of two split in quarters (at most 25 % slack),
 * so buffers freed by one layer fit the next layer's similar-sized activations.
 */
export function sizeClass(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const top = 2 ** Math.floor(Math.log2(bytes));
  const quarter = top / 4;
  return top + Math.ceil((bytes - top) / quarter) * quarter;
}

/**
 * A pool of storage buffers keyed by size class. `acquire` reuses a free buffer when one of the
 * class is pooled; `release` returns one. Weights use `exact` buffers that bypass the classes.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  /** Creation order of pooled buffers. */
  private readonly born = new WeakMap<GPUBuffer, number>();
  private created = 0;
  private stats: MemoryStats = { liveBytes: 0, liveBuffers: 0, peakBytes: 0, pooledBytes: 0, pooledBuffers: 0, peakAllocatedBytes: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {}

  /** A buffer of at least `bytes` (storage, copy-src, copy-dst). `exact` skips size classes and the pool. */
  acquire(bytes: number, exact = false): GPUBuffer {
    const size = exact ? Math.max(4, Math.ceil(bytes / 4) * 4) : sizeClass(bytes);
    if (size > this.maxBufferSize) {
      throw new RangeError(`buffer of ${bytes} bytes exceeds the device's maxBufferSize ${this.maxBufferSize}`);
    }
    const s = this.stats;
    let buffer = exact ? undefined : this.takeOldest(size);
    if (buffer) {
      s.pooledBytes -= size;
      s.pooledBuffers--;
    } else {
      buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      this.born.set(buffer, this.created++);
    }
    s.liveBytes += size;
    s.liveBuffers++;
    if (s.liveBytes > s.peakBytes) s.peakBytes = s.liveBytes;
    s.peakAllocatedBytes = Math.max(s.peakAllocatedBytes, s.liveBytes + s.pooledBytes);
    return buffer;
  }

  /**
   * The free buffer of a size class that was created first. Which buffer comes back then depends
   * on which are free, not on the order they were released in, so a computation repeated from the
   * same pool state gets the same buffers (and finds its cached bind groups); a stack would
   * permute them from run to run.
   */
  private takeOldest(size: number): GPUBuffer | undefined {
    const list = this.free.get(size);
    if (!list?.length) return undefined;
    let oldest = 0;
    for (let i = 1; i < list.length; i++) if (this.born.get(list[i])! < this.born.get(list[oldest])!) oldest = i;
    const buffer = list[oldest];
    list[oldest] = list[list.length - 1];
    list.pop();
    return buffer;
  }

  /** Returns a buffer from `acquire`; exact-size buffers are destroyed, others pooled. */
  release(buffer: GPUBuffer, exact = false): void {
    const s = this.stats;
    s.liveBytes -= buffer.size;
    s.liveBuffers--;
    if (exact) {
      buffer.destroy();
      return;
    }
    let list = this.free.get(buffer.size);
    if (!list) this.free.set(buffer.size, (list = []));
    list.push(buffer);
    s.pooledBytes += buffer.size;
    s.pooledBuffers++;
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.stats.pooledBytes = 0;
    this.stats.pooledBuffers = 0;
  }

  resetPeak(): void {
    this.stats.peakBytes = this.stats.liveBytes;
    this.stats.peakAllocatedBytes = this.stats.liveBytes + this.stats.pooledBytes;
  }

  snapshot(): MemoryStats {
    return { ...this.stats };
  }
}
