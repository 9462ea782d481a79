/** Bytes of one slot: a kernel's parameter block fits in it, and it is the uniform offset alignment. */
export const UNIFORM_SLOT = 256;

const COPY_DST = 0x08;
const UNIFORM = 0x40;

/**
 * Kernel parameters as slots of one uniform buffer, interned by content. A dispatch whose
 * parameters were seen before gets their slot again, so a repeated sampling step binds the same
 * (buffers, slot) bind groups every time and uploads no parameters.
 *
 * Why interned slots and not one slot per dispatch under a dynamic offset: lavapipe (Mesa 25)
 * builds a new descriptor set for every bind that takes a dynamic offset, mapping a page of
 * device memory for it and unmapping it later, and each unmap interrupts the shader threads
 * (a TLB shootdown across cores). On this VM that cost 45 µs per trivial dispatch against 16 µs
 * with a static bind group, and its queue thread took a quarter of a core beside a stream of
 * small matmuls.
 *
 * A slot's content may change only when no unsubmitted dispatch uses it: `writeBuffer` is
 * ordered on the queue, so work submitted before the upload still reads the old content.
 */
export class UniformTable {
  readonly buffer: GPUBuffer;
  private readonly host: Uint8Array<ArrayBuffer>;
  /** Content key → slot, least recently used first (a hit moves its entry to the end). */
  private readonly slots = new Map<string, number>();
  /** The recording (submission number) that last used each slot. */
  private readonly lastUse: Float64Array;
  /** Slots handed out so far: below `capacity`, a miss takes a fresh slot. */
  private filled = 0;
  /** Slots written since the last upload: [dirtyFrom, dirtyTo). */
  private dirtyFrom = Infinity;
  private dirtyTo = 0;

  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 4096,
  ) {
    this.host = new Uint8Array(UNIFORM_SLOT * capacity);
    this.lastUse = new Float64Array(capacity).fill(-1);
    this.buffer = device.createBuffer({ size: this.host.byteLength, usage: UNIFORM | COPY_DST });
  }

  /** Distinct parameter blocks held. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * The byte offset of the slot holding `params` (at most UNIFORM_SLOT bytes, a multiple of 4),
   * for a dispatch of recording `recording`; null when every slot is used by that recording
   * (submit it, then ask again under the next number).
   */
  offset(params: ArrayBuffer, recording: number): number | null {
    if (params.byteLength > UNIFORM_SLOT || params.byteLength % 4 !== 0) {
      throw new RangeError(`kernel params of ${params.byteLength} bytes: at most ${UNIFORM_SLOT}, a multiple of 4`);
    }
    const key = contentKey(params);
    let slot: number | null | undefined = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
    } else {
      slot = this.freeSlot(recording);
      if (slot === null) return null;
      this.host.set(new Uint8Array(params), slot * UNIFORM_SLOT);
      this.dirtyFrom = Math.min(this.dirtyFrom, slot);
      this.dirtyTo = Math.max(this.dirtyTo, slot + 1);
    }
    this.slots.set(key, slot);
    this.lastUse[slot] = recording;
    return slot * UNIFORM_SLOT;
  }

  /** Writes the slots filled since the last upload; call before submitting the recording that uses them. */
  upload(queue: GPUQueue): void {
    if (this.dirtyTo === 0) return;
    const from = this.dirtyFrom * UNIFORM_SLOT;
    queue.writeBuffer(this.buffer, from, this.host, from, this.dirtyTo * UNIFORM_SLOT - from);
    this.dirtyFrom = Infinity;
    this.dirtyTo = 0;
  }

  destroy(): void {
    this.slots.clear();
    this.buffer.destroy();
  }

  /** A never-used slot, else the least recently used one unless `recording` uses it too. */
  private freeSlot(recording: number): number | null {
    if (this.filled < this.capacity) return this.filled++;
    const [key, slot] = this.slots.entries().next().value!;
    // Least recently used first: if the oldest is in this recording, so is every other.
    if (this.lastUse[slot] === recording) return null;
    this.slots.delete(key);
    return slot;
  }
}

/** The bytes of `params` as a string, two bytes per character: a map key for the content. */
function contentKey(params: ArrayBuffer): string {
  const halves = new Uint16Array(params);
  let key = '';
  for (let i = 0; i < halves.length; i++) key += String.fromCharCode(halves[i]);
  return key;
}
