import { Tensor } from './tensor.ts';

/**
 * Nested scopes of tensors. Every tensor made while a scope is open is tracked by it; closing
 * the scope disposes the tracked tensors except those returned, which move to the parent scope.
 */
export class ScopeStack {
  private readonly stack: Set<Tensor>[] = [];

  /** Records a new tensor in the innermost scope, if any. */
  track(t: Tensor): void {
    this.stack[this.stack.length - 1]?.add(t);
  }

  /** Stops tracking `t`: it outlives the innermost scope that holds it. */
  keep(t: Tensor): void {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i].delete(t)) return;
  }

  run<R>(fn: () => R): R {
    const scope = new Set<Tensor>();
    this.stack.push(scope);
    let result: R;
    try {
      result = fn();
    } catch (e) {
      this.close(scope, undefined);
      throw e;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => {
          this.close(scope, v);
          return v;
        },
        (e) => {
          this.close(scope, undefined);
          throw e;
        },
      ) as R;
    }
    this.close(scope, result);
    return result;
  }

  private close(scope: Set<Tensor>, result: unknown): void {
    const i = this.stack.lastIndexOf(scope);
    if (i >= 0) this.stack.splice(i, 1);
    const kept = new Set<Tensor>();
    collect(result, kept);
    for (const t of scope) if (!kept.has(t)) t.dispose();
    const parent = this.stack[this.stack.length - 1];
    if (parent) for (const t of kept) if (scope.has(t)) parent.add(t);
  }
}

function collect(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if (value instanceof Tensor) {
    out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    for (const v of value instanceof Map ? value.values() : Object.values(value)) collect(v, out, depth + 1);
  }
}
