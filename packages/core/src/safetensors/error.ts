/**
 * A safetensors file is malformed, truncated, or holds something this library cannot load.
 * The message says what is wrong and where: the file, the tensor's name, offsets and sizes.
 */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}
