import { BYTES } from '../dtype.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { empty, type Tensor } from '../tensor.ts';
import { checkInputs, checkRank } from './check.ts';

const WG = 64;

/** Options of `timestepEmbedding`. */
export interface TimestepEmbeddingOptions {
  /** Longest period of the sinusoids (default 10000, Stable Diffusion's). */
  maxPeriod?: number;
}

/**
 * Stable Diffusion's sinusoidal timestep embedding: with half = ⌊dim/2⌋ and
 * freq_i = exp(−ln(maxPeriod)·i/half), each row is [cos(t·freq_0…freq_{half−1}),
 * sin(t·freq_0…freq_{half−1})], plus a zero column when `dim` is odd. Computed in f32 like the
 * PyTorch original, with the sine/cosine argument reduced to [−π, π] first.
 *
 * @param t timesteps `[batch]` (f32 or f16)
 * @param dim embedding width
 * @returns `[batch, dim]` in t's dtype
 */
export function timestepEmbedding(t: Tensor, dim: number, options: TimestepEmbeddingOptions = {}): Tensor {
  const op = 'timestepEmbedding';
  checkInputs(op, [t], 'float');
  checkRank(op, 't', t, 1);
  const maxPeriod = options.maxPeriod ?? 10000;
  if (!Number.isInteger(dim) || dim < 0) throw new ShapeError(`${op}: dim must be a non-negative integer, got ${dim} (t ${fmt(t.shape)})`);
  if (!(maxPeriod > 0)) throw new ShapeError(`${op}: maxPeriod must be positive, got ${maxPeriod}`);
  const half = Math.floor(dim / 2);
  const out = empty(t.device, [t.shape[0], dim], t.dtype);
  if (out.size === 0) return out;
  t.device.run({
    shader: 'timestep_embedding',
    types: { T: t.dtype },
    consts: { WG },
    inputs: [t],
    outputs: [out],
    params: new Params()
      .u32(out.size, dim, half)
      .f32(half === 0 ? 0 : -Math.log(maxPeriod) / half)
      .bytes(),
    workgroups: grid(Math.ceil(out.size / WG)),
    cost: out.size * (60 + 4 * BYTES[t.dtype]),
  });
  return out;
}
