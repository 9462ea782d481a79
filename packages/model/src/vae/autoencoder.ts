import { ShapeError, clamp, fmt, mulScalar, sliceAxis, type Tensor } from '@unicontrol/core';
import type { VaeConfig } from '../config.ts';
import { Conv2d } from '../nn/layers.ts';
import type { WeightScope } from '../weights/weights.ts';
import type { BlockLimit } from './channelParts.ts';
import { Decoder } from './decoder.ts';
import { Encoder } from './encoder.ts';

/** The posterior of `Autoencoder.encode`, all `[batch, ·, H/f, W/f]` for the downsampling factor f (8). */
export interface Posterior {
  /** quant_conv's output `[batch, 2·embedDim, …]`: mean then log-variance. */
  moments: Tensor;
  /** `[batch, embedDim, …]`. */
  mean: Tensor;
  /** Log-variance clamped to [−30, 20] as ldm's `DiagonalGaussianDistribution` does, `[batch, embedDim, …]`. */
  logvar: Tensor;
  /** The latent the diffusion model works on: `scaleFactor · mean` (the posterior's mode), `[batch, embedDim, …]`. */
  latent: Tensor;
}

/**
 * Stable Diffusion's KL-f8 autoencoder (ldm `AutoencoderKL`, the checkpoint's `first_stage_model`):
 * images in about [−1, 1] to latents 8x smaller per side and back.
 */
export class Autoencoder {
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  private readonly quantConv: Conv2d;
  private readonly postQuantConv: Conv2d;

  /**
   * @param w the checkpoint's `first_stage_model` scope
   * @param blocks activations beyond the storage binding limit (the decoder's 256-channel
   *   512x512 ones in float32) are held as channel blocks of at most this many bytes
   */
  constructor(
    w: WeightScope,
    readonly config: VaeConfig,
    blocks: BlockLimit = {},
  ) {
    this.encoder = new Encoder(w.at('encoder'), config, blocks);
    this.decoder = new Decoder(w.at('decoder'), config, blocks);
    this.quantConv = new Conv2d(w.at('quant_conv'));
    this.postQuantConv = new Conv2d(w.at('post_quant_conv'));
  }

  /** Image pixels per latent pixel along each side: 2^(levels−1) (8 for SD's VAE). */
  get factor(): number {
    return 2 ** (this.config.chMult.length - 1);
  }

  /**
   * `decode_first_stage`: latents `[batch, zChannels, h, w]` → images `[batch, outChannels,
   * factor·h, factor·w]` = decoder(post_quant_conv(z / scaleFactor)), raw (about [−1, 1], not
   * clamped). Storage dtype of z must match the weights'.
   */
  decode(z: Tensor): Tensor {
    const { zChannels, scaleFactor } = this.config;
    if (z.rank !== 4 || z.shape[1] !== zChannels) {
      throw new ShapeError(`Autoencoder.decode: latents ${fmt(z.shape)} must be [batch, ${zChannels}, h, w]`);
    }
    return z.device.scope(() => this.decoder.forward(this.postQuantConv.forward(mulScalar(z, 1 / scaleFactor))));
  }

  /**
   * `encode_first_stage`: images `[batch, inChannels, H, W]` (about [−1, 1]; H and W multiples of
   * `factor`) → the posterior and the latent `scaleFactor · mean`. Storage dtype of the image must
   * match the weights'.
   */
  encode(image: Tensor): Posterior {
    const { inChannels, embedDim, scaleFactor } = this.config;
    const f = this.factor;
    const [, c, h, w] = image.shape;
    if (image.rank !== 4 || c !== inChannels || h % f !== 0 || w % f !== 0) {
      throw new ShapeError(
        `Autoencoder.encode: image ${fmt(image.shape)} must be [batch, ${inChannels}, H, W] with H and W multiples of ${f} (the VAE downsamples ${f}x)`,
      );
    }
    return image.device.scope(() => {
      const moments = this.quantConv.forward(this.encoder.forward(image));
      const mean = sliceAxis(moments, 1, 0, embedDim);
      const logvar = clamp(sliceAxis(moments, 1, embedDim, 2 * embedDim), -30, 20);
      return { moments, mean, logvar, latent: mulScalar(mean, scaleFactor) };
    });
  }
}
