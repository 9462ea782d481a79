// A cheap preview of a sampling step: the x̂₀ latent mapped to RGB by a fixed linear map (no VAE).

import type { Tensor } from '@unicontrol/core';
import type { RgbaImage } from '../image/index.ts';

/**
 * Approximate RGB of each Stable Diffusion 1.x latent channel (rows: latent channels 0–3;
 * columns: R, G, B), the linear fit the community uses for latent previews. Good enough to see
 * composition emerge at 1/8 resolution; not a substitute for the VAE.
 */
const LATENT_RGB = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/** The first sample of latents `[n, 4, h, w]` (scaled by 0.18215, as the sampler holds them) as an h×w image. */
export async function latentPreview(latent: Tensor): Promise<RgbaImage> {
  const [, channels, h, w] = latent.shape;
  const v = (await latent.read()) as Float32Array;
  const plane = h * w;
  const data = new Uint8Array(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < Math.min(channels, 4); k++) s += v[k * plane + i] * LATENT_RGB[k][c];
      data[4 * i + c] = Math.max(0, Math.min(255, Math.round((s + 1) * 127.5)));
    }
    data[4 * i + 3] = 255;
  }
  return { width: w, height: h, data };
}
