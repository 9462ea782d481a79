// PNG row filtering (filter method 0) with the usual "minimum sum of absolute differences"
// heuristic, chosen per row. Ties keep the lower filter number, so the choice is deterministic.

/** Paeth's predictor (PNG spec §9.4). */
function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const pl = Math.abs(p - left);
  const pu = Math.abs(p - up);
  const pul = Math.abs(p - upLeft);
  if (pl <= pu && pl <= pul) return left;
  return pu <= pul ? up : upLeft;
}

/** The prediction of byte `x` of the row at `row` (`byteWidth` bytes, `bpp` bytes per pixel) by filter `type`. */
function predict(type: number, px: Uint8Array, row: number, x: number, byteWidth: number, bpp: number): number {
  if (type === 0) return 0;
  const left = x >= bpp ? px[row + x - bpp] : 0;
  const up = row > 0 ? px[row + x - byteWidth] : 0;
  if (type === 1) return left;
  if (type === 2) return up;
  if (type === 3) return (left + up) >> 1;
  return paeth(left, up, row > 0 && x >= bpp ? px[row + x - byteWidth - bpp] : 0);
}

/**
 * Filters `height` rows of `byteWidth` bytes each: every output row is its filter type byte and
 * the filtered bytes. The heuristic scores a filter by the sum of |byte − prediction| taken as
 * plain integers (not mod 256).
 */
export function filterRows(px: Uint8Array, byteWidth: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array((byteWidth + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * byteWidth;
    let best = 0;
    let bestSum = Infinity;
    for (let type = 0; type < 5; type++) {
      let sum = 0;
      for (let x = 0; x < byteWidth; x++) sum += Math.abs(px[row + x] - predict(type, px, row, x, byteWidth, bpp));
      if (sum < bestSum) {
        best = type;
        bestSum = sum;
      }
    }
    const o = y * (byteWidth + 1);
    out[o] = best;
    for (let x = 0; x < byteWidth; x++) out[o + 1 + x] = px[row + x] - predict(best, px, row, x, byteWidth, bpp);
  }
  return out;
}
