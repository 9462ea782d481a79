// The NaN/Inf guard: weights that overflow (or a broken kernel) turn the latents into NaN, which the
// VAE and the byte conversion would silently turn into a black image. After every sampling step a
// GPU kernel lowers a one-element flag to the step's index if the latents hold NaN/Inf
// (`flagNonFinite`), and the pipeline reads those 4 bytes: that read is the wait the sampler makes
// between steps anyway, so no latent data crosses to the CPU and nothing is scanned there while
// sampling is healthy. Only once the flag is set are the latents read, to count the bad values for
// the message. The decoded pixels, read in any case, are scanned on the CPU.

import { FLAG_CLEAR, flagNonFinite, nonFiniteFlag, type Device, type Tensor } from '@unicontrol/core';

/**
 * Sampling or decoding produced NaN or ±Inf values. `step` is the 0-based sampling step whose
 * latents first held them (undefined when the VAE decode did); the message counts them.
 */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(
    message: string,
    /** 0-based sampling step, or undefined for the decode. */
    readonly step?: number,
  ) {
    super(message);
  }
}

/** How many of `values` are NaN or ±Inf. */
export function countNonFinite(values: ArrayLike<number>): number {
  let bad = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) bad++;
  return bad;
}

/**
 * The guard of one sampling run. Its flag is a GPU tensor made in the current scope (freed with
 * it), so make the guard inside the scope that samples, before the first step.
 */
export class LatentGuard {
  private readonly flag: Tensor;

  constructor(device: Device) {
    this.flag = nonFiniteFlag(device);
  }

  /**
   * Records the check of the latents `x` `[n, 4, h/8, w/8]` after 0-based `step` (of `total`), waits
   * for the GPU by reading the 4-byte flag, and throws `NonFiniteError` if they hold NaN or ±Inf.
   */
  async check(x: Tensor, step: number, total: number, timestep: number): Promise<void> {
    flagNonFinite(x, this.flag, step);
    if ((await this.flag.read())[0] === FLAG_CLEAR) return;
    // Earlier steps would have thrown: the flag names this one. Read the latents only now, for the count.
    const values = await x.read();
    throw new NonFiniteError(
      `sampling step ${step + 1} of ${total} (timestep ${timestep}) produced ${countNonFinite(values)} of ${values.length} latent values that are NaN or infinite; the weights or the options overflow float32, and the image would come out black`,
      step,
    );
  }
}

/** Throws `NonFiniteError` if the decoded image values hold NaN or ±Inf. */
export function checkDecoded(values: ArrayLike<number>): void {
  const bad = countNonFinite(values);
  if (bad === 0) return;
  throw new NonFiniteError(
    `the VAE decode produced ${bad} of ${values.length} pixel values that are NaN or infinite (the latents were finite); the VAE weights overflow float32, and the image would come out black`,
  );
}
