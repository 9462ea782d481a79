import { resolutionSize, snapTo64 } from '../image/index.ts';
import { MAX_SIDE, OptionError, type RgbaImage } from './options.ts';

/**
 * The output size: explicit width/height snapped to multiples of 64 (a missing one follows the
 * condition's aspect ratio), else the official demo's `resize_image`: the condition scaled so its
 * short side is `resolution`, each side then rounded (half to even, as `np.round`) to a multiple of 64.
 * Throws `OptionError` when a side comes out over `MAX_SIDE` (a very wide or tall condition): the
 * latents would outgrow the device long before the first step.
 */
export function outputSize(condition: RgbaImage, o: { width?: number; height?: number; resolution: number }): { width: number; height: number } {
  const size = fromCondition(condition, o);
  if (size.width > MAX_SIDE || size.height > MAX_SIDE) {
    throw new OptionError(
      `the output would be ${size.width}x${size.height} pixels (a ${condition.width}x${condition.height} condition's aspect ratio), over the limit of ${MAX_SIDE} per side; pass width and height, or crop the condition`,
    );
  }
  return size;
}

function fromCondition(condition: RgbaImage, o: { width?: number; height?: number; resolution: number }): { width: number; height: number } {
  const aspect = condition.width / condition.height;
  if (o.width !== undefined && o.height !== undefined) return { width: snapTo64(o.width), height: snapTo64(o.height) };
  if (o.width !== undefined) return { width: snapTo64(o.width), height: snapTo64(o.width / aspect) };
  if (o.height !== undefined) return { width: snapTo64(o.height * aspect), height: snapTo64(o.height) };
  return resolutionSize(condition.width, condition.height, o.resolution);
}
