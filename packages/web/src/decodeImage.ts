// Image files → RGBA pixels in a browser, through the browser's own decoders (PNG, JPEG, WebP…).

import type { RgbaImage } from '@unicontrol/unicontrol';

/**
 * Decodes an image file with `createImageBitmap`, without colour-space conversion or alpha
 * premultiplication, so an 8-bit PNG without colour chunks gives exactly its stored pixels.
 */
export async function decodeImage(blob: Blob): Promise<RgbaImage & { data: Uint8Array }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new Error(`cannot decode ${(blob as File).name ?? 'the image'}: ${(e as Error).message} (use PNG, JPEG or WebP)`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { colorSpace: 'srgb', willReadFrequently: true });
  if (!ctx) throw new Error('cannot decode images: no 2D canvas');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  return { width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
}
