import type { DType } from './dtype.ts';
import { shaderSource } from './shaders.ts';

/** Constants baked into a kernel's WGSL: integers become `u32`, booleans `bool`. */
export type KernelConsts = Readonly<Record<string, number | boolean>>;

/** What identifies one compiled pipeline: a shader file, its type aliases and constants. */
export interface KernelKey {
  /** File name in `shaders/` without `.wgsl`. */
  shader: string;
  /** Type aliases the shader is written against, e.g. `{ X: 'f16', Y: 'f32' }`. */
  types?: Readonly<Record<string, DType>>;
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
 */
export function kernelSource(key: KernelKey): string {
  const lines: string[] = [];
  const types = Object.entries(key.types ?? {});
  if (types.some(([, t]) => t === 'f16')) lines.push('enable f16;');
  if (key.subgroups) lines.push('enable subgroups;');
  for (const [name, t] of types) lines.push(`alias ${name} = ${t};`);
  for (const [name, v] of Object.entries(key.consts ?? {})) {
    if (typeof v === 'boolean') lines.push(`const ${name}: bool = ${v};`);
    else if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) lines.push(`const ${name}: u32 = ${v}u;`);
    else throw new RangeError(`kernel ${key.shader}: constant ${name}=${v} is not a u32 (pass floats as params)`);
  }
  return `${lines.join('\n')}\n${shaderSource(key.shader)}`;
}

function cacheKey(key: KernelKey): string {
  return JSON.stringify([key.shader, key.types ?? {}, key.consts ?? {}, key.writes, key.params, key.subgroups ?? false]);
}

/** Compiled pipelines of one device, cached by kernel key. */
export class PipelineCache {
  private readonly cache = new Map<string, Compiled>();

  constructor(
    private readonly device: GPUDevice,
    /** Called after each compilation (compiling distorts the quiet wait's timing). */
    private readonly onCompile: () => void = () => {},
  ) {}

  get size(): number {
    return this.cache.size;
  }

  get(key: KernelKey): Compiled {
    const k = cacheKey(key);
    let hit = this.cache.get(k);
    if (!hit) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      if (key.params) entries.push({ binding: 0, visibility: 4, buffer: { type: 'uniform' } });
      key.writes.forEach((w, i) =>
        entries.push({ binding: i + 1, visibility: 4, buffer: { type: w ? 'storage' : 'read-only-storage' } }),
      );
      const layout = this.device.createBindGroupLayout({ entries });
      const module = this.device.createShaderModule({ code: kernelSource(key), label: key.shader });
      const pipeline = this.device.createComputePipeline({
        label: key.shader,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      hit = { pipeline, layout };
      this.onCompile();
      this.cache.set(k, hit);
    }
    return hit;
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
