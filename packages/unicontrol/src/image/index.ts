// Image I/O: PNG decode/encode, resizing with OpenCV's rules, output sizes, and the hint tensor.

export { type RgbaImage, type RgbImage, createImage, checkImage, checkSize } from './image.ts';
export { ImageError } from './imageError.ts';
export { decodePng, DEFAULT_MAX_PIXELS, type DecodeOptions } from './decodePng.ts';
export { encodePng } from './encodePng.ts';
export { resizeBilinear } from './resizeBilinear.ts';
export { resizeNearest } from './resizeNearest.ts';
export { snapTo64, snapSize, resolutionSize, roundHalfEven } from './snapSize.ts';
export { flattenAlpha } from './flattenAlpha.ts';
export { toHintTensor, type HostTensor } from './hintTensor.ts';
