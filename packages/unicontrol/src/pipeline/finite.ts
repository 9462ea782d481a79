// The NaN/Inf guard: weights that overflow (or a broken kernel) turn the latents into NaN, which the
// VAE and the byte conversion would silently turn into a black image. The pipeline reads the
// latents back after every step (n·4·(h/8)·(w/8) floats: 64 KiB per sample at 512 px, read while
// the sampler would wait for the step anyway) and the decoded pixels it reads in any case, and
// stops at the first non-finite value, naming where it appeared.

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

/** Throws `NonFiniteError` if the latents after 0-based `step` (of `total`) hold NaN or ±Inf. */
export function checkLatents(values: ArrayLike<number>, step: number, total: number, timestep: number): void {
  const bad = countNonFinite(values);
  if (bad === 0) return;
  throw new NonFiniteError(
    `sampling step ${step + 1} of ${total} (timestep ${timestep}) produced ${bad} of ${values.length} latent values that are NaN or infinite; the weights or the options overflow float32, and the image would come out black`,
    step,
  );
}

/** Throws `NonFiniteError` if the decoded image values hold NaN or ±Inf. */
export function checkDecoded(values: ArrayLike<number>): void {
  const bad = countNonFinite(values);
  if (bad === 0) return;
  throw new NonFiniteError(
    `the VAE decode produced ${bad} of ${values.length} pixel values that are NaN or infinite (the latents were finite); the VAE weights overflow float32, and the image would come out black`,
  );
}
