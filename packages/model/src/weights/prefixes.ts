/** Where each part of the model lives in the official `ControlLDM.state_dict()`. */
export const PREFIX = {
  unet: 'model.diffusion_model.',
  controlNet: 'control_model.',
  vae: 'first_stage_model.',
  clip: 'cond_stage_model.transformer.text_model.',
} as const;

/** `LatentDiffusion`'s registered schedule buffers (float32 [1000] each, no prefix). */
export const SCHEDULE_BUFFERS = [
  'betas',
  'alphas_cumprod',
  'alphas_cumprod_prev',
  'sqrt_alphas_cumprod',
  'sqrt_one_minus_alphas_cumprod',
  'log_one_minus_alphas_cumprod',
  'sqrt_recip_alphas_cumprod',
  'sqrt_recipm1_alphas_cumprod',
  'posterior_variance',
  'posterior_log_variance_clipped',
  'posterior_mean_coef1',
  'posterior_mean_coef2',
  'logvar',
] as const;

/** CLIP's int64 `[1, maxPositions]` buffer 0, 1, 2, … (transformers ≤ 4.30 saved it). */
export const POSITION_IDS = `${PREFIX.clip}embeddings.position_ids`;

/** Widths of the hint path's convolutions (hard-coded in the official ControlNet). */
export const HINT_MOE_CHANNELS = [16, 16, 32] as const;
export const HINT_SHARE_CHANNELS = [32, 96, 96, 256] as const;
