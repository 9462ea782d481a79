// Single-channel maps are handed on as RGB with the value in all three channels, alpha 255.

/** An opaque RGBA image with `values[i]` in R, G and B of pixel i. */
export function grayMap(width: number, height: number, values: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    data[4 * i] = v;
    data[4 * i + 1] = v;
    data[4 * i + 2] = v;
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
