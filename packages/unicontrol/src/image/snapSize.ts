// Output sizes: the latents are 1/8 of the image and the UNet halves them three times, so both
// sides must be multiples of 64.

/** Rounds to the nearest integer, ties to even (numpy's `np.round`, which the official code uses). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A side snapped to the nearest multiple of 64 (ties to the even multiple, as `np.round`), at least 64. */
export function snapTo64(side: number): number {
  if (!(Number.isFinite(side) && side > 0)) throw new RangeError(`image side must be a positive number, got ${side}`);
  return Math.max(64, roundHalfEven(side / 64) * 64);
}

/** Explicit width and height, each snapped to the nearest multiple of 64 (see `snapTo64`). */
export function snapSize(width: number, height: number): { width: number; height: number } {
  return { width: snapTo64(width), height: snapTo64(height) };
}

/**
 * The size the official demo's `resize_image(img, resolution)` gives an image of `width`x`height`:
 * k = resolution / min(H, W), both sides scaled by k, then each `np.round(side / 64) * 64`. The
 * short side becomes `resolution` rounded to a multiple of 64; the aspect ratio is kept as closely
 * as 64-pixel steps allow. `resolution` must be at least 64.
 */
export function resolutionSize(width: number, height: number, resolution: number): { width: number; height: number } {
  if (!(Number.isFinite(resolution) && resolution >= 64)) throw new RangeError(`resolution must be a number ≥ 64, got ${resolution}`);
  if (!(width > 0 && height > 0)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  const k = resolution / Math.min(width, height);
  return { width: roundHalfEven((width * k) / 64) * 64, height: roundHalfEven((height * k) / 64) * 64 };
}
