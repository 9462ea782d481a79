import type { RgbaImage } from '../src/image/index.ts';

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) & 255;
  }
  return out;
}

/** A random RGBA image. */
export function randomImage(width: number, height: number, seed: number): RgbaImage & { data: Uint8Array } {
  return { width, height, data: randomBytes(width * height * 4, seed) };
}
