import { resolutionSize, snapTo64 } from '../image/index.ts';
import type { RgbaImage } from './options.ts';

/**
 * The output size: explicit width/height snapped to multiples of 64 (a missing one follows the
 * condition's aspect ratio), else the official demo's `resize_image`: the condition scaled so its
 * short side is `resolution`, each side then rounded (half to even, as `np.round`) to a multiple of 64.
 */
export function outputSize(condition: RgbaImage, o: { width?: number; height?: number; resolution: number }): { width: number; height: number } {
  const aspect = condition.width / condition.height;
  if (o.width !== undefined && o.height !== undefined) return { width: snapTo64(o.width), height: snapTo64(o.height) };
  if (o.width !== undefined) return { width: snapTo64(o.width), height: snapTo64(o.width / aspect) };
  if (o.height !== undefined) return { width: snapTo64(o.height * aspect), height: snapTo64(o.height) };
  return resolutionSize(condition.width, condition.height, o.resolution);
}
