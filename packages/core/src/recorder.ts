import { BindGroupCache, type BufferBinding } from './bindgroups.ts';
import { DeviceLostError } from './errors.ts';
import { QuietWait } from './quiet.ts';
import { UNIFORM_SLOT, UniformTable } from './uniforms.ts';

/**
 * A device's loss, as the recorder's waits need it: the error once the loss is known, and the
 * waits in flight, which it rejects at that moment (a destroyed device may never settle them).
 * Waiters unsubscribe when they finish, so a long session holds no handlers.
 */
export class DeviceLoss {
  private lostError: DeviceLostError | null = null;
  private readonly waiters = new Set<(e: DeviceLostError) => void>();

  /** The loss, or null while the device is usable. */
  error(): DeviceLostError | null {
    return this.lostError;
  }

  /** Throws the loss, if the device is lost. */
  throwIfLost(): void {
    if (this.lostError) throw this.lostError;
  }

  /** Records the loss (the first one wins) and rejects every wait in flight with it. */
  report(error: DeviceLostError): void {
    if (this.lostError) return;
    this.lostError = error;
    for (const w of this.waiters) w(error);
    this.waiters.clear();
  }

  /**
   * Settles like `promise`, or rejects with the loss when the device is lost first. If `promise`
   * fails while the device is going away (Dawn aborts a pending map before it reports the loss),
   * waits up to `graceMs` for the loss and rejects with it instead of the bare 'AbortError'.
   */
  async race<T>(promise: Promise<T>, graceMs = 1000): Promise<T> {
    let stop = (): void => undefined;
    const lost = new Promise<never>((_, reject) => {
      if (this.lostError) return reject(this.lostError);
      this.waiters.add(reject);
      stop = () => this.waiters.delete(reject);
    });
    try {
      return await Promise.race([promise, lost]);
    } catch (e) {
      if (e instanceof DeviceLostError || this.lostError) throw this.lostError ?? e;
      const later = await new Promise<DeviceLostError | null>((resolve) => {
        const timer = setTimeout(() => {
          this.waiters.delete(found);
          resolve(null);
        }, graceMs);
        const found = (err: DeviceLostError): void => {
          clearTimeout(timer);
          resolve(err);
        };
        this.waiters.add(found);
      });
      throw later ?? e;
    } finally {
      stop();
    }
  }
}

const MAP_READ = 0x01;
const COPY_DST = 0x08;
/**
 * A recording is submitted once it holds this many dispatches, without waiting for a sync: the
 * GPU starts on a long sequence (a sampling step: about 1000 dispatches) while the rest is still
 * recorded, instead of idling through all of its recording.
 */
const SUBMIT_EVERY = 128;

/**
 * Records dispatches into one open compute pass and submits them in batches. Ops never wait:
 * only `sync()` and `read()` do, and they wait quietly (see `QuietWait`).
 */
export class Recorder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly uniforms: UniformTable;
  private readonly staging: GPUBuffer[] = [];
  /** Dispatches recorded and not yet submitted. */
  pending = 0;
  /** Dispatches recorded since the device was made. */
  dispatches = 0;
  /** Submissions since the device was made. */
  submits = 0;
  readonly wait = new QuietWait();
  readonly bindGroups: BindGroupCache;
  /**
   * While true, dispatches and copies record nothing and reads throw: ops run for their pipelines
   * and shapes only (`Device.compileAhead`).
   */
  paused = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly lost: DeviceLoss,
  ) {
    this.uniforms = new UniformTable(device);
    this.bindGroups = new BindGroupCache(device);
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private closePass(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return this.encoder;
  }

  /**
   * Records one dispatch. `params` (≤ 256 bytes) becomes binding 0 when given: its slot of the
   * interned uniform table (see UniformTable), so the bind group depends on the tensors and the
   * parameters' content only.
   */
  dispatch(
    pipeline: GPUComputePipeline,
    layout: GPUBindGroupLayout,
    bindings: readonly BufferBinding[],
    params: ArrayBuffer | null,
    workgroups: readonly [number, number, number],
    cost: number,
  ): void {
    const err = this.lost.error();
    if (err) throw err;
    if (this.paused) return;
    let group: GPUBindGroup;
    if (params) {
      let offset = this.uniforms.offset(params, this.submits);
      if (offset === null) {
        // Every slot serves this recording: submit it, and the slots may be rewritten.
        this.flush();
        offset = this.uniforms.offset(params, this.submits)!;
      }
      group = this.bindGroups.get(layout, [{ buffer: this.uniforms.buffer, offset, size: UNIFORM_SLOT }, ...bindings]);
    } else {
      group = this.bindGroups.get(layout, bindings, 1);
    }
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    this.pending++;
    this.dispatches++;
    this.wait.add(cost);
    if (this.pending >= SUBMIT_EVERY) this.flush();
  }

  /** Records a buffer-to-buffer copy in stream order. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    if (this.paused) return;
    this.closePass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.pending++;
  }

  /** Submits everything recorded so far. Cheap when nothing is pending. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.closePass();
    this.uniforms.upload(this.device.queue);
    this.device.queue.submit([encoder.finish()]);
    this.encoder = null;
    this.pending = 0;
    this.submits++;
    this.wait.submitted();
  }

  /**
   * Submits what is recorded and waits for the GPU to finish. `predict: false` skips the quiet
   * wait's predicted sleep and learns nothing, for callers that sleep on their own schedule:
   * `Device.autotune` times slow and fast candidates alike, and learning from them (tried) made
   * the step's first wait oversleep 3x.
   */
  async sync(predict = true): Promise<void> {
    this.flush();
    await this.wait.until(() => this.device.queue.onSubmittedWorkDone(), this.lost, predict);
  }

  /** Copies `bytes` from `src` at `offset` back to the CPU. */
  async read(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    if (this.paused) throw new Error('cannot read a tensor while dispatching is paused (inside compileAhead, no op has run)');
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.takeStaging(size);
    this.closePass().copyBufferToBuffer(src, offset, staging, 0, size);
    this.pending++;
    this.flush();
    try {
      await this.wait.until(() => staging.mapAsync(MAP_READ, 0, size), this.lost);
      // A loss between the map and here leaves no mapped range to copy.
      const err = this.lost.error();
      if (err) throw err;
      const out = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
      this.staging.push(staging);
      return out;
    } catch (e) {
      staging.destroy();
      throw e;
    }
  }

  private takeStaging(size: number): GPUBuffer {
    // Reuse host-visible buffers: first-touch of fresh host memory is slow on this VM.
    const i = this.staging.findIndex((b) => b.size >= size && b.size <= size * 4);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  }

  destroy(): void {
    this.bindGroups.clear();
    for (const b of this.staging) b.destroy();
    this.staging.length = 0;
    this.uniforms.destroy();
  }
}
