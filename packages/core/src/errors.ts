/** An op received inputs of the wrong shape, dtype or arity. Message names the op and the offending shapes. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** The GPU device was lost (destroyed, driver reset, out of memory). Make a new device with `createDevice()`. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** No WebGPU adapter could be found or the adapter lacks something we need. */
export class AdapterError extends Error {
  override name = 'AdapterError';
}

/** Formats a shape the way error messages print it: `[2, 320, 32, 32]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
