import type { DType } from './dtype.ts';
import { shaderSource } from './shaders.ts';

/** Constants baked into a kernel's WGSL: integers become `u32`, booleans `bool`. */
export type KernelConsts = Readonly<Record<string, number | boolean>>;

/**
 * A type a kernel's alias can name: a storage dtype, 4 of them (for vectorised loads), or
 * `vec2<u32>`: 4 float16 values packed in pairs (see `vectorType`).
 */
export type KernelType = DType | `vec4<${DType}>` | 'vec2<u32>';

/** The alias type of a binding read as `dtype` elements, or as 4 of them at a time when `vec4`. */
export function storageType(dtype: DType, vec4: boolean): KernelType {
  return vec4 ? `vec4<${dtype}>` : dtype;
}

/**
 * Like `storageType`, for bindings a kernel reads and writes only through `from_NAME` and
 * `to_NAME` (see `kernelSource`): 4 float16 values are a `vec2<u32>`, two packed pairs, because
 * lavapipe loads and stores a vector one component at a time per invocation (a loop with a
 * bounds check each), so 4 halves cost 4 component loads as `vec4<f16>` and 2 as `vec2<u32>`.
 */
export function vectorType(dtype: DType, vec4: boolean): KernelType {
  return vec4 && dtype === 'f16' ? 'vec2<u32>' : storageType(dtype, vec4);
}

/** What identifies one compiled pipeline: a shader file, its type aliases and constants. */
export interface KernelKey {
  /** File name in `shaders/` without `.wgsl`. */
  shader: string;
  /** Type aliases the shader is written against, e.g. `{ X: 'f16', Y: 'f32', V: 'vec4<f16>' }`. */
  types?: Readonly<Record<string, KernelType>>;
  consts?: KernelConsts;
  /** Storage bindings after the params uniform: `true` = written by the kernel. */
  writes: readonly boolean[];
  /** Whether binding 0 is a params uniform. */
  params: boolean;
  /** Whether the shader uses subgroup builtins (`enable subgroups;`). */
  subgroups?: boolean;
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * Builds the WGSL for a key: `enable f16;` when needed, one `alias` per type, one `const` per
 * constant, then the shader file. Kernels stay pure functions of these.
 *
 * A shader that calls `to_NAME(v)` or `from_NAME(e)` for a type alias NAME also gets that function:
 * `to_NAME` gives the `vec4f` v as NAME (whole when NAME holds 4 values, its first component when
 * NAME is a scalar), `from_NAME` an element of NAME as a `vec4f` (a scalar splatted). They let one
 * source read and write a binding that is vector or scalar per launch, and hide `vec2<u32>`'s
 * packing: the branch for the other kind never runs, but must still type-check.
 */
export function kernelSource(key: KernelKey): string {
  const lines: string[] = [];
  const types = Object.entries(key.types ?? {});
  const body = shaderSource(key.shader);
  if (types.some(([, t]) => t.includes('f16'))) lines.push('enable f16;');
  if (key.subgroups) lines.push('enable subgroups;');
  for (const [name, t] of types) lines.push(`alias ${name} = ${t};`);
  for (const [name, t] of types) {
    if (body.includes(`to_${name}(`)) lines.push(`fn to_${name}(v: vec4f) -> ${name} { return ${convertTo(name, t)}; }`);
    if (body.includes(`from_${name}(`)) lines.push(`fn from_${name}(e: ${name}) -> vec4f { return ${convertFrom(t)}; }`);
  }
  for (const [name, v] of Object.entries(key.consts ?? {})) {
    if (typeof v === 'boolean') lines.push(`const ${name}: bool = ${v};`);
    else if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) lines.push(`const ${name}: u32 = ${v}u;`);
    else throw new RangeError(`kernel ${key.shader}: constant ${name}=${v} is not a u32 (pass floats as params)`);
  }
  return `${lines.join('\n')}\n${body}`;
}

/** WGSL for `to_NAME`'s body: the vec4f `v` as alias `name` of type `t`. */
function convertTo(name: string, t: KernelType): string {
  if (t === 'vec2<u32>') return 'vec2u(pack2x16float(v.xy), pack2x16float(v.zw))';
  return `${name}(${t.startsWith('vec4') ? 'v' : 'v.x'})`;
}

/** WGSL for `from_NAME`'s body: element `e` of type `t` as a vec4f. */
function convertFrom(t: KernelType): string {
  if (t === 'vec2<u32>') return 'vec4f(unpack2x16float(e.x), unpack2x16float(e.y))';
  return t.startsWith('vec4') ? 'vec4f(e)' : 'vec4f(f32(e))';
}

function cacheKey(key: KernelKey): string {
  return JSON.stringify([key.shader, key.types ?? {}, key.consts ?? {}, key.writes, key.params, key.subgroups ?? false]);
}

/**
 * Compiled pipelines of one device, cached by kernel key. `get` compiles on a miss (blocking);
 * `compileAll` compiles many keys at once with `createComputePipelineAsync`, so that the first
 * sampling step finds them all ready.
 */
export class PipelineCache {
  private readonly cache = new Map<string, Compiled>();
  /** Asynchronous compilations in flight, so two `compileAll` calls never compile a key twice. */
  private readonly pending = new Map<string, Promise<Compiled>>();
  /** Pipelines compiled since the cache was made (both ways). */
  compiled = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Called after each blocking compilation (compiling distorts the quiet wait's timing). */
    private readonly onCompile: () => void = () => {},
  ) {}

  /** Pipelines in the cache. */
  get size(): number {
    return this.cache.size;
  }

  get(key: KernelKey): Compiled {
    const k = cacheKey(key);
    let hit = this.cache.get(k);
    if (!hit) {
      const { layout, descriptor } = this.describe(key);
      hit = { pipeline: this.device.createComputePipeline(descriptor), layout };
      this.store(k, hit);
    }
    return hit;
  }

  /**
   * Compiles every key not yet cached, all in parallel, and resolves when all are cached. Rejects
   * with the first failure (a shader that does not compile). Returns how many it compiled.
   */
  async compileAll(keys: Iterable<KernelKey>): Promise<number> {
    const waits = new Map<string, Promise<Compiled>>();
    let started = 0;
    for (const key of keys) {
      const k = cacheKey(key);
      if (this.cache.has(k) || waits.has(k)) continue;
      let wait = this.pending.get(k);
      if (!wait) {
        const { layout, descriptor } = this.describe(key);
        const compiling = this.device.createComputePipelineAsync(descriptor).catch((e: unknown) => {
          // Dawn's message names the shader but not the constants that made it fail.
          throw new Error(`compiling kernel '${key.shader}' with ${JSON.stringify(key.consts ?? {})} failed: ${(e as Error).message}`);
        });
        wait = compiling.then((pipeline) => {
          // A blocking `get` may have compiled the key meanwhile: keep the one already in use.
          // Not reported to onCompile: the caller knows whether work ran meanwhile.
          if (!this.cache.has(k)) this.store(k, { pipeline, layout }, false);
          return this.cache.get(k)!;
        });
        wait.then(
          () => this.pending.delete(k),
          () => this.pending.delete(k),
        );
        this.pending.set(k, wait);
        started++;
      }
      waits.set(k, wait);
    }
    await Promise.all(waits.values());
    return started;
  }

  private store(k: string, compiled: Compiled, report = true): void {
    this.cache.set(k, compiled);
    this.compiled++;
    if (report) this.onCompile();
  }

  /** The bind group layout and pipeline descriptor of a key; binding 0 is the params uniform, when it has params. */
  private describe(key: KernelKey): { layout: GPUBindGroupLayout; descriptor: GPUComputePipelineDescriptor } {
    const entries: GPUBindGroupLayoutEntry[] = [];
    // A static offset: lavapipe rebuilds the descriptor set of every bind with a dynamic one (see UniformTable).
    if (key.params) entries.push({ binding: 0, visibility: 4, buffer: { type: 'uniform' } });
    key.writes.forEach((w, i) =>
      entries.push({ binding: i + 1, visibility: 4, buffer: { type: w ? 'storage' : 'read-only-storage' } }),
    );
    const layout = this.device.createBindGroupLayout({ entries });
    const module = this.device.createShaderModule({ code: kernelSource(key), label: key.shader });
    const descriptor: GPUComputePipelineDescriptor = {
      label: key.shader,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    };
    return { layout, descriptor };
  }
}

/** Packs kernel parameters into a uniform block: 4-byte scalars in declaration order. */
export class Params {
  private readonly view = new DataView(new ArrayBuffer(256));
  private n = 0;

  u32(...values: number[]): this {
    for (const v of values) this.view.setUint32(4 * this.n++, v, true);
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) this.view.setInt32(4 * this.n++, v, true);
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.view.setFloat32(4 * this.n++, v, true);
    return this;
  }

  /** u32 values padded with zeros to `length` (a `array<vec4<u32>, length / 4>` in WGSL). */
  u32Array(values: readonly number[], length: number): this {
    if (values.length > length) throw new RangeError(`params: ${values.length} values exceed ${length}`);
    for (let i = 0; i < length; i++) this.view.setUint32(4 * this.n++, values[i] ?? 0, true);
    return this;
  }

  bytes(): ArrayBuffer {
    // Uniform blocks are sized in multiples of 16 bytes.
    return this.view.buffer.slice(0, Math.max(16, Math.ceil((4 * this.n) / 16) * 16));
  }
}

/**
 * Spreads `count` workgroups over x and y so that neither exceeds `maxPerDim`; shaders recover
 * the linear index as `wid.x + wid.y * nwg.x` and ignore indices ≥ count.
 */
export function grid(count: number, maxPerDim = 65535): [number, number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / maxPerDim);
  return [Math.ceil(count / y), y, 1];
}
