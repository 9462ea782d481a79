// What the checkpoint cannot say about the model: the sizes the weights reveal are inferred
// (weights/inferConfig.ts); these are the rest, with the real UniControl model's values.

/** ControlNet variants: v1.1 adds a plain convolution beside each modulated hint zero-convolution. */
export type ControlNetVersion = 'v1.0' | 'v1.1';

/** The UNet and ControlNet trunk (both share it). */
export interface UNetConfig {
  /** Latent channels in (4) and, for the UNet, out. */
  inChannels: number;
  outChannels: number;
  /** Channels of the first level (320); level i has `modelChannels · channelMult[i]`. */
  modelChannels: number;
  channelMult: number[];
  /** ResBlocks per level on the way down (2); the way up has one more. */
  numResBlocks: number;
  /** Whether each level (by index) has SpatialTransformers after its ResBlocks. */
  attentionLevels: boolean[];
  /** Width of the time embedding MLP (4 · modelChannels). */
  timeEmbedDim: number;
  /** Width of the cross-attention context (CLIP's hidden size, 768). */
  contextDim: number;
  /** Transformer blocks per SpatialTransformer (1). */
  transformerDepth: number;
  /** Attention heads (8); head size = channels / heads (SD 1.5's `legacy: False` with `num_heads`). */
  numHeads: number;
  /** GroupNorm eps of ResBlocks and the output norm (GroupNorm32: 1e-5). */
  resnetEps: number;
  /** GroupNorm eps of SpatialTransformer.norm (1e-6). */
  transformerNormEps: number;
  /** LayerNorm eps inside transformer blocks (1e-5). */
  layerNormEps: number;
}

/** The ControlNet's own parts beyond the trunk. */
export interface ControlNetConfig {
  version: ControlNetVersion;
  /** Channels of the condition image (3). */
  hintChannels: number;
  /** Number of per-task hint adapters (13). */
  numTasks: number;
  /** Input width of the task HyperNet (CLIP's hidden size). */
  taskFeatureDim: number;
}

/** CLIP ViT-L/14's text transformer. */
export interface ClipConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Attention heads (12 for ViT-L/14). */
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  layerNormEps: number;
}

/** The KL-f8 autoencoder. */
export interface VaeConfig {
  /** Image channels (3). */
  inChannels: number;
  outChannels: number;
  /** Channels of the first level (128) and the multipliers per level ([1, 2, 4, 4]). */
  ch: number;
  chMult: number[];
  numResBlocks: number;
  /** Latent channels (4); the encoder emits 2 · zChannels moments. */
  zChannels: number;
  embedDim: number;
  /** Latents are `scaleFactor · mean` (0.18215). */
  scaleFactor: number;
  /** GroupNorm eps of every VAE norm (1e-6). */
  normEps: number;
}

/** Everything needed to build the model. */
export interface UniControlConfig {
  unet: UNetConfig;
  controlNet: ControlNetConfig;
  clip: ClipConfig;
  vae: VaeConfig;
}

/** The settings the weights cannot reveal, at the real model's values. */
export interface UnrevealedConfig {
  version: ControlNetVersion;
  unetHeads: number;
  clipHeads: number;
  scaleFactor: number;
  resnetEps: number;
  transformerNormEps: number;
  layerNormEps: number;
  clipLayerNormEps: number;
  vaeNormEps: number;
}

/** Values of the official `models/cldm_v15_unicontrol_v11.yaml` and CLIP ViT-L/14. */
export const UNREVEALED_DEFAULTS: Readonly<UnrevealedConfig> = Object.freeze({
  version: 'v1.1',
  unetHeads: 8,
  clipHeads: 12,
  scaleFactor: 0.18215,
  resnetEps: 1e-5,
  transformerNormEps: 1e-6,
  layerNormEps: 1e-5,
  clipLayerNormEps: 1e-5,
  vaeNormEps: 1e-6,
});

/** GroupNorm's group count everywhere in SD 1.5 (GroupNorm32 and the VAE's Normalize). */
export const NORM_GROUPS = 32;

/**
 * The task names of the official `ControlLDM.tasks_to_id` (index = hint adapter) and their
 * instructions (`mapping_task`).
 */
export const TASKS = [
  ['control_hed', 'hed edge to image'],
  ['control_canny', 'canny edge to image'],
  ['control_seg', 'segmentation map to image'],
  ['control_depth', 'depth map to image'],
  ['control_normal', 'normal surface map to image'],
  ['control_openpose', 'human pose skeleton to image'],
  ['control_img', 'image editing'],
  ['control_hedsketch', 'sketch to image'],
  ['control_bbox', 'bounding box to image'],
  ['control_outpainting', 'image outpainting'],
  ['control_grayscale', 'gray image to color image'],
  ['control_blur', 'deblur image to clean image'],
  ['control_inpainting', 'image inpainting'],
] as const;

export type TaskName = (typeof TASKS)[number][0];
