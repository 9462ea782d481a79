import type { Tensor } from '@unicontrol/core';

/**
 * The model's GPU-resident parameters by checkpoint key. A tensor too big for one storage binding
 * (the CLIP token embedding in float32) is held as row parts. `at(prefix)` gives the view a
 * module reads its own keys through.
 */
export class Weights {
  private readonly parts = new Map<string, Tensor[]>();

  /** Adds `name` (one tensor, or row parts in order). */
  set(name: string, value: Tensor | Tensor[]): void {
    const parts = Array.isArray(value) ? value : [value];
    for (const t of parts) t.keep();
    this.parts.get(name)?.forEach((t) => t.dispose());
    this.parts.set(name, parts);
  }

  has(name: string): boolean {
    return this.parts.has(name);
  }

  /** The tensor `name`; throws if absent or held in parts (use `rows()`). */
  get(name: string): Tensor {
    const parts = this.rows(name);
    if (parts.length !== 1) throw new Error(`weights: ${name} is held in ${parts.length} row parts; read it with rows()`);
    return parts[0];
  }

  /** `name` as consecutive parts along its first axis (one part when it fits a binding). */
  rows(name: string): Tensor[] {
    const parts = this.parts.get(name);
    if (!parts) throw new Error(`weights: no tensor ${name}`);
    return parts;
  }

  /** A view whose keys are relative to `prefix` (joined with '.'). */
  at(prefix: string): WeightScope {
    return new WeightScope(this, prefix);
  }

  /** Bytes of GPU memory the parameters occupy. */
  get bytes(): number {
    let n = 0;
    for (const parts of this.parts.values()) for (const t of parts) n += t.bytes;
    return n;
  }

  get size(): number {
    return this.parts.size;
  }

  /** Frees every parameter's GPU buffer. */
  dispose(): void {
    for (const parts of this.parts.values()) for (const t of parts) t.dispose();
    this.parts.clear();
  }
}

/** The weights under one key prefix: `scope.at('in_layers').get('0.weight')`. */
export class WeightScope {
  constructor(
    readonly weights: Weights,
    readonly prefix: string,
  ) {}

  private key(name: string): string {
    return this.prefix === '' ? name : `${this.prefix}.${name}`;
  }

  at(sub: string | number): WeightScope {
    return new WeightScope(this.weights, this.key(String(sub)));
  }

  get(name: string): Tensor {
    return this.weights.get(this.key(name));
  }

  rows(name: string): Tensor[] {
    return this.weights.rows(this.key(name));
  }

  has(name: string): boolean {
    return this.weights.has(this.key(name));
  }
}
