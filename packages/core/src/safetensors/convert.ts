// Converting file element types to the GPU storage types (f32, f16, i32) on the CPU, chunk by chunk.

import type { DType } from '../dtype.ts';
import { fromHalfBits, toHalfBits } from '../f16.ts';
import { FILE_DTYPE_BYTES, type FileDType } from './dtypes.ts';
import { SafetensorsError } from './error.ts';

/** Float storage a caller may ask for. */
export type FloatStorage = 'f32' | 'f16';

/** CPU arrays holding GPU storage: float32 values, float16 bits, or int32 values. */
export type HostStorage = Float32Array | Uint16Array | Int32Array;

const FLOATS: readonly FileDType[] = ['F64', 'F32', 'F16', 'BF16'];
const INTS: readonly FileDType[] = ['I64', 'I32', 'I16', 'I8', 'U16', 'U8', 'BOOL'];

/**
 * The storage dtype a file dtype loads as. Floats: `requested`, else float16 for F16 files on a
 * device with `shader-f16`, else float32. Integers and BOOL: int32 (I64 values must fit).
 * `label` names the tensor in the error for dtypes that cannot be loaded (U32, U64, F8_*).
 */
export function storageFor(file: FileDType, requested: FloatStorage | undefined, hasF16: boolean, label: string): DType {
  if (FLOATS.includes(file)) return requested ?? (file === 'F16' && hasF16 ? 'f16' : 'f32');
  if (INTS.includes(file)) return 'i32';
  throw new SafetensorsError(`${label}: dtype ${file} cannot be loaded (floats: ${FLOATS.join(', ')}; integers as int32: ${INTS.join(', ')})`);
}

/** A zeroed CPU array for `n` elements of `dtype` storage. */
export function hostStorage(dtype: DType, n: number): HostStorage {
  return dtype === 'f32' ? new Float32Array(n) : dtype === 'f16' ? new Uint16Array(n) : new Int32Array(n);
}

/** Where converted elements come from, for error messages: the tensor and the chunk's first element index. */
export interface ConvertOrigin {
  label: string;
  firstElement: number;
}

/**
 * Converts whole little-endian elements of file dtype `from` in `bytes` into `out` (storage `to`,
 * as made by `hostStorage`), starting at element `at`. Rounding to float16 or float32 is to
 * nearest, ties to even, from the exact source value.
 */
export function convertInto(from: FileDType, bytes: Uint8Array, to: DType, out: HostStorage, at: number, origin: ConvertOrigin): void {
  if (!LITTLE_ENDIAN) throw new Error('safetensors: loading needs a little-endian host');
  const n = bytes.length / FILE_DTYPE_BYTES[from];
  if (to === 'i32') return intsInto(from, bytes, out as Int32Array, at, origin);
  if (to === 'f32') {
    const dst = out as Float32Array;
    if (from === 'F32') dst.set(view(bytes, Float32Array), at);
    else if (from === 'F16') {
      const src = view(bytes, Uint16Array);
      const table = halfTable();
      for (let i = 0; i < n; i++) dst[at + i] = table[src[i]];
    } else if (from === 'BF16') {
      // bfloat16 is the top half of a float32: shift its bits into place.
      const src = view(bytes, Uint16Array);
      const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
      for (let i = 0; i < n; i++) bits[at + i] = src[i] << 16;
    } else if (from === 'F64') dst.set(view(bytes, Float64Array), at); // Float32Array stores round to nearest even
    else throw new Error(`convertInto: ${from} is not a float dtype`);
    return;
  }
  const dst = out as Uint16Array;
  if (from === 'F16') dst.set(view(bytes, Uint16Array), at);
  else if (from === 'F32') {
    const src = view(bytes, Float32Array);
    for (let i = 0; i < n; i++) dst[at + i] = toHalfBits(src[i]);
  } else if (from === 'BF16') {
    // Every bfloat16 value is exact in float32, so this rounds once.
    const src = view(bytes, Uint16Array);
    const one = new Float32Array(1);
    const oneBits = new Uint32Array(one.buffer);
    for (let i = 0; i < n; i++) {
      oneBits[0] = src[i] << 16;
      dst[at + i] = toHalfBits(one[0]);
    }
  } else if (from === 'F64') {
    const src = view(bytes, Float64Array);
    for (let i = 0; i < n; i++) dst[at + i] = halfBitsOfDouble(src[i]);
  } else throw new Error(`convertInto: ${from} is not a float dtype`);
}

/** bfloat16 bits to float32 values (exact). */
export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

function intsInto(from: FileDType, bytes: Uint8Array, dst: Int32Array, at: number, origin: ConvertOrigin): void {
  switch (from) {
    case 'I32':
      return dst.set(view(bytes, Int32Array), at);
    case 'I16':
      return dst.set(view(bytes, Int16Array), at);
    case 'U16':
      return dst.set(view(bytes, Uint16Array), at);
    case 'I8':
      return dst.set(view(bytes, Int8Array), at);
    case 'U8':
    case 'BOOL':
      return dst.set(bytes, at);
    case 'I64': {
      // Each int64 is (low, high) int32 words; it fits in int32 when high is low's sign extension.
      const words = view(bytes, Int32Array);
      for (let i = 0; i < words.length / 2; i++) {
        const low = words[2 * i];
        if (words[2 * i + 1] !== low >> 31) {
          const value = view(bytes, BigInt64Array)[i];
          throw new SafetensorsError(
            `${origin.label}: I64 value ${value} at element ${origin.firstElement + i} does not fit in int32 (the GPU integer type)`,
          );
        }
        dst[at + i] = low;
      }
      return;
    }
    default:
      throw new Error(`convertInto: ${from} is not an integer dtype`);
  }
}

type TypedArrayCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** Views bytes as elements of `Ctor`, copying first when they are not aligned for it. */
function view<T>(bytes: Uint8Array, Ctor: TypedArrayCtor<T>): T {
  const b = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  return new Ctor(b.buffer, b.byteOffset, b.length / Ctor.BYTES_PER_ELEMENT);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfValues: Float32Array | null = null;

/** float32 value of every float16 bit pattern (256 KiB, built on first use): a lookup beats decoding. */
function halfTable(): Float32Array {
  if (!halfValues) {
    halfValues = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfValues[h] = fromHalfBits(h);
  }
  return halfValues;
}

/**
 * float16 bits nearest to a float64 value (ties to even). Going through float32 first could round
 * twice; instead round to float16's spacing at the value's binade, which is exact in float64.
 */
function halfBitsOfDouble(v: number): number {
  const a = Math.abs(v);
  if (!Number.isFinite(v) || a === 0) return toHalfBits(v);
  let e = Math.max(Math.floor(Math.log2(a)), -14); // -14: float16's subnormals share one spacing
  if (e > -14 && 2 ** e > a) e--; // log2 may be off by one next to a power of two
  else if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  let r = Math.floor(q);
  if (q - r > 0.5 || (q - r === 0.5 && r % 2 === 1)) r++;
  // r × ulp is a float16 value (or 65536, which toHalfBits turns into infinity), so this is exact.
  return toHalfBits(Math.sign(v) * r * ulp);
}
