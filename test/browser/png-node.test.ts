// The TypeScript PNG encoder (used in Node and browsers) writes exactly what pngjs + zlib write.

import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from '@unicontrol/unicontrol';

function pngjsBytes(width: number, height: number, data: Uint8Array): Uint8Array {
  return new Uint8Array(pngjs.PNG.sync.write({ width, height, data: Buffer.from(data) } as pngjs.PNG, { colorType: 6, inputColorType: 6, bitDepth: 8 }));
}

describe('encodePng', () => {
  const seed = Number(process.env.TEST_SEED ?? Date.now() % 1e9);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);

  it.each([
    ['noise', (_x: number, _y: number) => rand() * 256],
    ['gradient', (x: number, y: number) => (x * 3 + y * 5) & 255],
    ['sparse', (_x: number, _y: number) => (rand() < 0.9 ? 0 : rand() * 256)],
  ])('matches pngjs byte for byte on %s images (seed %s)', (_name, fill) => {
    for (const [w, h] of [[1, 1], [7, 5], [64, 64], [131, 77]]) {
      const data = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++) for (let x = 0; x < w * 4; x++) data[y * w * 4 + x] = fill(x, y);
      expect(Buffer.from(encodePng({ width: w, height: h, data })).equals(Buffer.from(pngjsBytes(w, h, data))), `seed ${seed}, ${w}x${h}`).toBe(true);
    }
  });
});
