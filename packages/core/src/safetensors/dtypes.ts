/** Element types a safetensors file may declare (the format's names), with their sizes in bytes. */
export const FILE_DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

/** An element type named in a safetensors header, e.g. `'F32'`, `'BF16'`, `'I64'`. */
export type FileDType = keyof typeof FILE_DTYPE_BYTES;

export function isFileDType(s: unknown): s is FileDType {
  return typeof s === 'string' && Object.hasOwn(FILE_DTYPE_BYTES, s);
}
