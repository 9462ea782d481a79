import type { Device } from '../device.ts';
import { ShapeError, fmt } from '../errors.ts';
import { Params, grid } from '../kernel.ts';
import { tensor, type Tensor } from '../tensor.ts';
import { checkInputs } from './check.ts';

/** The value of a clear non-finite flag: larger than any tag (the i32 maximum). */
export const FLAG_CLEAR = 0x7fffffff;

const WG = 64;
const ELEMS = 4; // 32-bit words per invocation
const PER_GROUP = WG * ELEMS;

/** A new non-finite flag: an i32 `[1]` tensor holding `FLAG_CLEAR`, for `flagNonFinite`. */
export function nonFiniteFlag(device: Device): Tensor {
  return tensor(device, Int32Array.of(FLAG_CLEAR), [1], { dtype: 'i32' });
}

/**
 * Records one kernel that lowers `flag` (an i32 `[1]`, e.g. from `nonFiniteFlag`) to
 * min(flag, tag) if any element of `x` (f32 or f16, any shape) is NaN, +Inf or −Inf, and leaves it
 * as it is otherwise. Nothing is read back: a caller guarding many tensors (one per sampling step,
 * tagged with the step) reads the 4-byte flag once it has to wait anyway, and finds the smallest
 * tag whose tensor was not finite. `tag` is an integer below `FLAG_CLEAR`.
 */
export function flagNonFinite(x: Tensor, flag: Tensor, tag: number): void {
  checkInputs('flagNonFinite', [x], 'float');
  checkInputs('flagNonFinite', [x, flag]);
  if (flag.dtype !== 'i32' || flag.size !== 1) throw new ShapeError(`flagNonFinite: flag must be an i32 tensor of one element, got ${fmt(flag.shape)} ${flag.dtype}`);
  if (!Number.isInteger(tag) || tag < -(2 ** 31) || tag >= FLAG_CLEAR) {
    throw new RangeError(`flagNonFinite: tag ${tag} must be an integer in [-2^31, ${FLAG_CLEAR})`);
  }
  if (x.size === 0) return;
  const half = x.dtype === 'f16';
  const words = half ? Math.ceil(x.size / 2) : x.size;
  // The tag goes in the params, not the constants: one pipeline serves every step.
  x.device.run({
    shader: 'nonfinite',
    consts: { WG, ELEMS, HALF: half },
    inputs: [x],
    outputs: [flag],
    params: new Params().u32(x.size).i32(tag).bytes(),
    workgroups: grid(Math.ceil(words / PER_GROUP)),
    cost: 4 * x.bytes + 2 * words, // a read of x and a mask test per word
  });
}
