export { SafetensorsError } from './error.ts';
export type { FileDType } from './dtypes.ts';
export type { SafetensorsEntry, SafetensorsHeader } from './header.ts';
export { blobSource, bytesSource, fileSource, type ByteSource } from './source.ts';
export { openSafetensors, SafetensorsReader, type OpenOptions, type ByteRange } from './reader.ts';
export { bf16ToF32, type FloatStorage } from './convert.ts';
export { loadTensor, loadTensorSplit, type LoadOptions } from './load.ts';
