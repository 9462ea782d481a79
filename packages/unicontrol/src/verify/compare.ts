import type { HostTensor } from './golden.ts';

/** One checked tensor: a row of `unicontrol verify`'s table. */
export interface CheckRow {
  case: string;
  tensor: string;
  /** Max |got − want| (Infinity for a shape mismatch or a NaN). */
  maxError: number;
  tolerance: number;
  pass: boolean;
  /** Why it failed beyond the number (shape mismatch). */
  note?: string;
}

/** Max |got − want| over all elements; Infinity when shapes differ or a value is NaN. */
export function maxAbsError(got: HostTensor, want: HostTensor): number {
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) return Infinity;
  let m = 0;
  for (let i = 0; i < want.data.length; i++) {
    const e = Math.abs(got.data[i] - want.data[i]);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

/** Compares one produced tensor with its golden value under `tolerance`. */
export function checkTensor(caseName: string, name: string, got: HostTensor, want: HostTensor, tolerance: number): CheckRow {
  const maxError = maxAbsError(got, want);
  const shapeOk = got.shape.length === want.shape.length && got.shape.every((d, i) => d === want.shape[i]);
  return {
    case: caseName,
    tensor: name,
    maxError,
    tolerance,
    pass: maxError <= tolerance,
    ...(shapeOk ? {} : { note: `shape [${got.shape.join(', ')}], expected [${want.shape.join(', ')}]` }),
  };
}
