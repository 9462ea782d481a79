// The image type every function here shares, and its validation.

/**
 * An RGBA image, row-major, 4 bytes per pixel (R, G, B, A), top row first. A browser's
 * `ImageData` fits. Functions here accept either array type and always return `Uint8Array`.
 */
export interface RgbaImage {
  /** Pixels per row (≥ 1). */
  width: number;
  /** Rows (≥ 1). */
  height: number;
  /** `width * height * 4` bytes. */
  data: Uint8Array | Uint8ClampedArray;
}

/** An RGBA image whose alpha is 255 everywhere, as condition maps are (same layout). */
export type RgbImage = RgbaImage;

/** A new opaque black image of the given size. */
export function createImage(width: number, height: number): { width: number; height: number; data: Uint8Array } {
  checkSize(width, height);
  const data = new Uint8Array(width * height * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, data };
}

/** Throws a RangeError unless width and height are positive integers. */
export function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
}

/** Throws a RangeError unless `image` is a well-formed RgbaImage; `what` names it in the message. */
export function checkImage(image: RgbaImage, what = 'image'): void {
  if (image === null || typeof image !== 'object') throw new RangeError(`${what} must be an RGBA image { width, height, data }`);
  checkSize(image.width, image.height);
  const want = image.width * image.height * 4;
  if (!(image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray) || image.data.length !== want) {
    throw new RangeError(`${what} must hold ${image.width}x${image.height}x4 = ${want} bytes of RGBA, got ${image.data?.length ?? 'none'}`);
  }
}
