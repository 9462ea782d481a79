import type { DType } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import type { Tensor } from '../tensor.ts';

/** Throws unless every tensor is live, on one device, and (when given) of `dtype`. */
export function checkInputs(op: string, inputs: readonly Tensor[], dtype?: DType | 'float'): void {
  const device = inputs[0]?.device;
  inputs.forEach((t, i) => {
    if (t.disposed) throw new Error(`${op}: input ${i} ${fmt(t.shape)} was disposed`);
    if (t.device !== device) throw new Error(`${op}: inputs live on different devices`);
    if (dtype === 'float' ? t.dtype === 'i32' : dtype !== undefined && t.dtype !== dtype) {
      throw new ShapeError(`${op}: input ${i} has dtype ${t.dtype}, expected ${dtype}`);
    }
  });
}

/** Throws unless all tensors share one dtype. */
export function checkSameDType(op: string, inputs: readonly Tensor[]): void {
  const d = inputs[0].dtype;
  for (const t of inputs) {
    if (t.dtype !== d) throw new ShapeError(`${op}: dtypes differ (${inputs.map((x) => x.dtype).join(' vs ')})`);
  }
}

/** Throws unless `t` has rank `rank`, naming the op and the argument. */
export function checkRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) throw new ShapeError(`${op}: ${name} must have rank ${rank}, got ${fmt(t.shape)}`);
}
