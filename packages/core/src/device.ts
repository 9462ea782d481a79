import type { DType } from './dtype.ts';
import { AdapterError, DeviceLostError, ShapeError, fmt } from './errors.ts';
import { ForgettingPool } from './bindgroups.ts';
import { PipelineCache, type KernelConsts, type KernelKey, type KernelType } from './kernel.ts';
import { timeCandidates, Tuning, type Tunable, type TuningResult } from './tuning.ts';
import type { BufferPool, MemoryStats } from './memory.ts';
import { DeviceLoss, Recorder } from './recorder.ts';
import type { WaitCalibration } from './quiet.ts';
import { ScopeStack } from './scope.ts';
import type { Tensor } from './tensor.ts';

/** How to pick the adapter. Environment variables (Node) fill what the options leave out. */
export interface DeviceOptions {
  /** Dawn adapter name (Node; env `UNICONTROL_ADAPTER`), e.g. `'llvmpipe'`. An unknown name lists the adapters. */
  adapter?: string;
  /** Dawn backend (Node; env `UNICONTROL_BACKEND`): `'vulkan'`, `'metal'`, `'d3d12'`, `'opengles'`, … */
  backend?: string;
  /** Browser adapter preference. */
  powerPreference?: GPUPowerPreference;
  /** Request `shader-f16` when the adapter has it (default true). */
  f16?: boolean;
  /** A `navigator.gpu`-like object to use instead of the platform's. */
  gpu?: GPU;
  /** Fill every op output with NaN before the op runs, so unwritten elements show (tests). */
  poisonOutputs?: boolean;
  /**
   * Tiles of 8 invocations per workgroup in the subgroup matmul, convolution and attention
   * kernels: 1, 2 or 4 (default: the adapter's minimum subgroup size / 8, at most 4; so 4 on
   * NVIDIA's 32-wide subgroups and 1 on lavapipe's 8-wide ones). Each tile is one group of 8 lanes
   * of a subgroup. Above 1 the subgroup attention also takes one query row per invocation, not 4
   * (the GPU tiling: see ops/attention.ts).
   */
  laneGroups?: 1 | 2 | 4;
}

/** What the adapter is and what it allows. */
export interface AdapterReport {
  name: string;
  vendor: string;
  architecture: string;
  description: string;
  backend: string;
  features: string[];
  limits: Record<string, number>;
}

/** The command that makes a software adapter available on a machine without a GPU. */
export const SETUP_COMMAND = 'sudo npm run setup   (bash scripts/setup.sh: installs Mesa lavapipe on Debian)';

const LIMITS_WANTED = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/**
 * A WebGPU device plus everything this library keeps per device: the pipeline cache, the buffer
 * pool, the command recorder and the tensor scopes. Make one with `createDevice()`.
 */
export class Device {
  readonly pool: BufferPool;
  private work = { dispatches: 0, flops: 0 };
  private submitsAtReset = 0;
  private cachesAtReset = { pipelinesCompiled: 0, bindGroupsCreated: 0, bindGroupsReused: 0 };
  /** While `compileAhead` runs its function: the kernels its launches need. */
  private plan: KernelKey[] | null = null;
  /** Kernel choices measured on this device (`autotune`), consulted by ops with several kernels. */
  readonly tuning = new Tuning();
  readonly pipelines: PipelineCache;
  readonly recorder: Recorder;
  readonly scopes = new ScopeStack();
  /** Whether float16 tensors are available (`shader-f16`). */
  readonly hasF16: boolean;
  readonly poisonOutputs: boolean;
  /** Tiles of 8 invocations per workgroup of the subgroup matmul, convolution and attention kernels (DeviceOptions.laneGroups). */
  readonly laneGroups: 1 | 2 | 4;
  /** Set once the device is lost; rejects the waits in flight at that moment. */
  private readonly loss = new DeviceLoss();
  private gpuError: Error | null = null;

  constructor(
    readonly gpu: GPUDevice,
    readonly adapter: AdapterReport,
    options: DeviceOptions = {},
    /** The `GPU` (Dawn instance) that made the device: held so it is not garbage-collected while in use. */
    private readonly instance?: GPU,
  ) {
    this.hasF16 = gpu.features.has('shader-f16');
    this.poisonOutputs = options.poisonOutputs ?? false;
    checkLaneGroups(options);
    const fit = Math.floor((gpu.adapterInfo?.subgroupMinSize ?? 8) / 8);
    this.laneGroups = options.laneGroups ?? (fit >= 4 ? 4 : fit >= 2 ? 2 : 1);
    this.recorder = new Recorder(gpu, this.loss);
    this.pool = new ForgettingPool(gpu, gpu.limits.maxBufferSize, (b) => this.recorder.bindGroups.forget(b));
    this.pipelines = new PipelineCache(gpu, () => this.recorder.wait.taint());
    void gpu.lost.then((info) => {
      this.loss.report(
        new DeviceLostError(`GPU device lost (${info.reason}${info.message ? `: ${info.message}` : ''}); create a new device with createDevice()`),
      );
    });
    gpu.addEventListener('uncapturederror', (ev) => {
      this.gpuError ??= new Error(`WebGPU error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
    });
  }

  /** Whether `compileAhead` or `autotune` is running its function (ops record nothing). */
  get planning(): boolean {
    return this.plan !== null;
  }

  /** The device's limits that ops check against. */
  get limits(): GPUSupportedLimits {
    return this.gpu.limits;
  }

  /** Throws if the device was lost or a GPU error was reported since the last check. */
  check(): void {
    const lost = this.loss.error();
    if (lost) throw lost;
    if (this.gpuError) {
      const e = this.gpuError;
      this.gpuError = null;
      throw e;
    }
  }

  get lost(): boolean {
    return this.loss.error() !== null;
  }

  /** Throws unless `dtype` can be stored on this device. */
  checkDType(op: string, dtype: DType): void {
    if (dtype === 'f16' && !this.hasF16) {
      throw new AdapterError(`${op}: float16 storage needs the 'shader-f16' feature, which adapter '${this.adapter.name}' lacks`);
    }
  }

  /** Submits recorded work and waits (quietly) until the GPU has done it. */
  async sync(): Promise<void> {
    this.check();
    await this.recorder.sync();
    this.check();
  }

  /**
   * What the quiet wait of `sync()` and `read()` has learned of this device's speed. A process
   * that restores the value saved by an earlier one on the same adapter spares its first long
   * wait (a sampling run's first step) from spinning the JS thread while it learns.
   */
  get waitCalibration(): WaitCalibration {
    return this.recorder.wait.calibration();
  }

  set waitCalibration(c: WaitCalibration) {
    this.recorder.wait.calibrate(c);
  }

  /** Current GPU memory held by tensors and the pool. */
  memory(): MemoryStats {
    return this.pool.snapshot();
  }

  /**
   * Runs `fn` and disposes every tensor created inside it except those it returns (a tensor, or
   * tensors inside a returned array or plain object). Async functions hold the scope until they
   * settle; do not interleave two async scopes on one device.
   */
  scope<R>(fn: () => R): R {
    return this.scopes.run(fn);
  }

  /** Records one kernel dispatch over tensors. Binding order: params, inputs, outputs. */
  run(launch: KernelLaunch): void {
    this.check();
    const writes = [...launch.inputs.map(() => false), ...launch.outputs.map(() => true)];
    const key: KernelKey = {
      shader: launch.shader,
      types: launch.types,
      consts: launch.consts,
      writes,
      params: launch.params !== undefined,
      subgroups: launch.subgroups,
    };
    const limit = this.limits.maxStorageBufferBindingSize;
    const bindings = [...launch.inputs, ...launch.outputs].map((t) => {
      if (t.bytes > limit) {
        throw new ShapeError(`${launch.shader}: tensor ${fmt(t.shape)} ${t.dtype} is ${t.bytes} bytes, over this device's limit of ${limit} bytes per storage binding`);
      }
      // A pooled buffer's size class may exceed the limit although the tensor fits: bind only what is allowed.
      return { buffer: t.buffer, size: Math.min(t.buffer.size, limit) };
    });
    if (this.plan) {
      this.plan.push(key);
      return;
    }
    const { pipeline, layout } = this.pipelines.get(key);
    const [x, y = 1, z = 1] = launch.workgroups;
    this.work.dispatches++;
    this.work.flops += launch.flops ?? 0;
    this.recorder.dispatch(pipeline, layout, bindings, launch.params ?? null, [x, y, z], launch.cost ?? 0);
  }

  /**
   * Work recorded since the device was made or `resetCounters()`: kernel dispatches, queue
   * submissions, and FLOPs (2 × multiply-adds of convolutions, matrix products and attention,
   * counted as the direct algorithm).
   */
  counters(): { dispatches: number; submits: number; flops: number } {
    return { ...this.work, submits: this.recorder.submits - this.submitsAtReset };
  }

  /**
   * How well pipelines and bind groups are reused: pipelines and bind groups held now, and since the
   * device was made or `resetCounters()`, pipelines compiled, bind groups created, and dispatches
   * that found their bind group cached. A repeated sampling step should compile nothing and create
   * (almost) no bind groups.
   */
  caches(): { pipelines: number; bindGroups: number; pipelinesCompiled: number; bindGroupsCreated: number; bindGroupsReused: number } {
    const now = this.cacheTotals();
    const base = this.cachesAtReset;
    return {
      pipelines: this.pipelines.size,
      bindGroups: this.recorder.bindGroups.size,
      pipelinesCompiled: now.pipelinesCompiled - base.pipelinesCompiled,
      bindGroupsCreated: now.bindGroupsCreated - base.bindGroupsCreated,
      bindGroupsReused: now.bindGroupsReused - base.bindGroupsReused,
    };
  }

  resetCounters(): void {
    this.work = { dispatches: 0, flops: 0 };
    this.submitsAtReset = this.recorder.submits;
    this.cachesAtReset = this.cacheTotals();
  }

  private cacheTotals(): { pipelinesCompiled: number; bindGroupsCreated: number; bindGroupsReused: number } {
    const groups = this.recorder.bindGroups;
    return { pipelinesCompiled: this.pipelines.compiled, bindGroupsCreated: groups.created, bindGroupsReused: groups.reused };
  }

  /**
   * Compiles, ahead of use and in parallel, every pipeline that `fn` would launch, so the work
   * that follows (a sampling loop) does not stop to compile. `fn` runs synchronously with
   * dispatching paused: ops allocate their outputs and check shapes, but record and submit
   * nothing, so tensors it makes hold no computed values (those it does not keep are freed; it
   * must not read any). Then every pipeline not yet cached is created with
   * `createComputePipelineAsync`, all awaited together. Dispatching resumes even if `fn` throws.
   * Resolves to the number of pipelines compiled.
   */
  async compileAhead(fn: () => unknown): Promise<{ compiled: number }> {
    const plan = this.dryRun('compileAhead', fn);
    // A destroyed device may never settle its compilations: fail with the loss instead of hanging.
    const compiled = await this.loss.race(this.pipelines.compileAll(plan));
    this.check();
    // Compiling slows work in flight, which its wait must then not learn from; compiling on an
    // idle GPU slows nothing (the next wait is timed from a later submission).
    if (compiled > 0 && this.recorder.wait.inFlight) this.recorder.wait.taint();
    return { compiled };
  }

  /**
   * Measures, on this device, the kernel choices that `fn`'s ops make between several kernels
   * (e.g. conv2d's Winograd or implicit GEMM for each 3x3 convolution shape), and makes the ops
   * use the fastest from then on. `fn` runs as in `compileAhead` (nothing dispatched); then each
   * call shape not tuned before is run with every candidate on zero-filled inputs of its shapes
   * and timed (`timeCandidates`: two warm-up calls, then a quiet sample of 3, or of 1 for calls of
   * 100 ms or more, sleeping through most of the expected time before each wait; a candidate
   * clearly slower than the fastest so far after its warm-up is not timed further). Resolves to
   * what was measured for the newly tuned keys; `device.tuning.results()` holds every choice made
   * so far.
   */
  async autotune(fn: () => unknown): Promise<TuningResult[]> {
    const offered = new Map<string, Tunable>();
    this.tuning.offered = offered;
    try {
      this.dryRun('autotune', fn);
    } finally {
      this.tuning.offered = null;
    }
    const results: TuningResult[] = [];
    for (const tunable of offered.values()) {
      const inputs = tunable.prepare();
      try {
        await this.compileAhead(() => tunable.candidates.forEach((v) => inputs.run(v)));
        // Each call is submitted as it is recorded: the samples sleep while the GPU works.
        const call = (v: string) => () => {
          inputs.run(v);
          this.recorder.flush();
        };
        const result = { key: tunable.key, ...(await timeCandidates(tunable.candidates, call, () => this.recorder.sync(false))) };
        this.tuning.record(result);
        results.push(result);
      } finally {
        inputs.dispose();
      }
    }
    return results;
  }

  /**
   * Runs `fn` synchronously with dispatching paused: ops allocate their outputs and check shapes
   * but record and submit nothing (tensors hold no values; those not kept are freed). Returns the
   * kernels its launches need. Dispatching resumes even if `fn` throws.
   */
  private dryRun(op: string, fn: () => unknown): KernelKey[] {
    this.check();
    if (this.plan) throw new Error(`${op}: already planning (compileAhead and autotune calls do not nest)`);
    const plan: KernelKey[] = [];
    this.plan = plan;
    this.recorder.paused = true;
    try {
      this.scopes.run(() => {
        const result = fn();
        if (result instanceof Promise) {
          result.catch(() => undefined); // the TypeError below is the error to see
          throw new TypeError(`${op}: fn must be synchronous (it returned a Promise)`);
        }
      });
    } finally {
      this.plan = null;
      this.recorder.paused = false;
    }
    return plan;
  }

  /**
   * Frees the pool, the pipelines and the GPU device. Tensors of this device become unusable, and
   * work in flight (a `generate()` mid-sampling) rejects with `DeviceLostError`.
   */
  destroy(): void {
    // Known at once, before Dawn reports it: later ops must fail as lost, not on destroyed buffers.
    this.loss.report(new DeviceLostError('GPU device lost (destroyed with Device.destroy()); create a new device with createDevice()'));
    this.recorder.destroy();
    this.pool.trim();
    this.gpu.destroy();
  }
}

/** One kernel launch: which shader with which types and constants, over which tensors. */
export interface KernelLaunch {
  shader: string;
  types?: Readonly<Record<string, KernelType>>;
  consts?: KernelConsts;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  params?: ArrayBuffer;
  workgroups: readonly [number, number?, number?];
  /** Work estimate, FLOPs + 4 × bytes moved, from which the quiet wait predicts GPU time. */
  cost?: number;
  /**
   * The op's useful floating-point work for `Device.counters()`: 2 × the multiply-adds of the direct
   * algorithm (convolutions, matrix products, attention), whatever algorithm the kernel runs.
   */
  flops?: number;
  /** The shader uses subgroup builtins; check `hasSubgroups(device)` first. */
  subgroups?: boolean;
}

/** Whether the device has subgroups of at least 8 invocations, which the subgroup kernels assume. */
export function hasSubgroups(device: Device): boolean {
  return device.gpu.features.has('subgroups') && (device.gpu.adapterInfo?.subgroupMinSize ?? 0) >= 8;
}

function checkLaneGroups(options: DeviceOptions): void {
  if (options.laneGroups !== undefined && ![1, 2, 4].includes(options.laneGroups)) {
    throw new RangeError(`createDevice: laneGroups must be 1, 2 or 4, got ${String(options.laneGroups)}`);
  }
}

let nodeGlobalsInstalled = false;

async function platformGpu(options: DeviceOptions): Promise<{ gpu: GPU; backend: string }> {
  if (options.gpu) return { gpu: options.gpu, backend: options.backend ?? 'given' };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) {
    if (!nav?.gpu) throw new AdapterError('this browser has no WebGPU (navigator.gpu is missing); try a recent Chrome, Edge or Safari, or enable WebGPU');
    return { gpu: nav.gpu, backend: 'browser' };
  }
  const backend = options.backend ?? env.UNICONTROL_BACKEND;
  const adapter = options.adapter ?? env.UNICONTROL_ADAPTER;
  const flags: string[] = [];
  if (backend) flags.push(`backend=${backend}`);
  if (adapter) flags.push(`adapter=${adapter}`);
  const moduleName = 'webgpu'; // kept out of static imports so browser bundles never see Dawn
  let dawn: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    dawn = (await import(/* @vite-ignore */ moduleName)) as typeof dawn;
  } catch (e) {
    throw new AdapterError(`cannot load the 'webgpu' package (Dawn for Node): ${(e as Error).message}; run 'npm ci'`);
  }
  if (!nodeGlobalsInstalled) {
    // Dawn's GPUBufferUsage & co.: WebGPU code expects these constants to be globals.
    for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    nodeGlobalsInstalled = true;
  }
  return { gpu: dawn.create(flags), backend: backend ?? 'default' };
}

/**
 * Returns a ready device in Node (Dawn) or a browser (`navigator.gpu`): the adapter's largest
 * buffer, storage-binding, workgroup-storage and invocation limits, and `shader-f16` when present.
 * Throws `AdapterError` naming the setup command when no adapter exists.
 */
export async function createDevice(options: DeviceOptions = {}): Promise<Device> {
  checkLaneGroups(options);
  const { gpu, backend } = await platformGpu(options);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  } catch (e) {
    throw new AdapterError(`requesting a WebGPU adapter failed: ${(e as Error).message}`);
  }
  if (!adapter) {
    const which = [options.backend && `backend '${options.backend}'`, options.adapter && `adapter '${options.adapter}'`]
      .filter(Boolean)
      .join(', ');
    throw new AdapterError(
      `no WebGPU adapter found${which ? ` for ${which}` : ''}. On a machine without a GPU, install a software adapter: ${SETUP_COMMAND}`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of LIMITS_WANTED) requiredLimits[k] = adapter.limits[k];
  const wantF16 = options.f16 !== false && adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = wantF16 ? ['shader-f16'] : [];
  // The fast matmul, conv2d and attention kernels share operands across a subgroup's lanes.
  if (adapter.features.has('subgroups')) requiredFeatures.push('subgroups' as GPUFeatureName);
  const gpuDevice = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info;
  const report: AdapterReport = {
    name: info.description || info.device || info.vendor || 'unknown adapter',
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    backend,
    features: [...adapter.features].sort(),
    limits: Object.fromEntries(LIMITS_WANTED.map((k) => [k, gpuDevice.limits[k]])),
  };
  return new Device(gpuDevice, report, options, gpu);
}
