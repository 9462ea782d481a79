// Condition preprocessors: photo → condition map for the tasks that have a built-in one, and what
// the user must supply for the others.
//
// All run on the CPU. At 512x512 each takes milliseconds in Node (measured on this project's
// 2-core machine: canny 12 ms, blur with the default 51-tap kernel 60 ms, the others under 6 ms;
// bilinear resize of a 1000x750 photo 15 ms), against seconds per denoising step, so a GPU version
// would not pay off: uploading the image and reading the map back would cost about as much.

export { canny, CANNY_DEFAULTS, type CannyOptions } from './canny.ts';
export { grayscale } from './grayscale.ts';
export { blur, BLUR_DEFAULTS, type BlurOptions } from './blur.ts';
export { gaussianKernel8, gaussianWeights, sigmaForKernel } from './gaussianKernel.ts';
export { outpaint, OUTPAINT_DEFAULTS, type OutpaintOptions } from './outpaint.ts';
export { inpaint, INPAINT_DEFAULTS, type InpaintOptions } from './inpaint.ts';
export { bbox, bboxLike, parseBoxes, type Box, type BboxOptions } from './bbox.ts';
export { COCO_COLORS, UNLABELLED_COLOR } from './cocoColors.ts';
export { USER_MAPS, type UserMapDoc, type Resample } from './userMaps.ts';
export { CONDITIONS, type Preprocessor } from './registry.ts';
export type { Units } from './options.ts';
