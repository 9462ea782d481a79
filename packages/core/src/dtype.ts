/** Element types a tensor can hold on the GPU. `f16` needs the `shader-f16` feature. */
export type DType = 'f32' | 'f16' | 'i32';

/** Bytes per element of each dtype. */
export const BYTES: Record<DType, number> = { f32: 4, f16: 2, i32: 4 };

/** The typed array that holds a dtype's values on the CPU (f16 is read back widened to float32). */
export type HostArray<D extends DType> = D extends 'i32' ? Int32Array : Float32Array;

export function isFloat(dtype: DType): boolean {
  return dtype !== 'i32';
}
