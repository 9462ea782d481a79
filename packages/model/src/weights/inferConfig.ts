// Reads the model's sizes off the checkpoint's tensor shapes, so one loader serves the real model
// and any smaller or larger one in the same layout.

import {
  NORM_GROUPS,
  UNREVEALED_DEFAULTS,
  type ClipConfig,
  type ControlNetConfig,
  type UNetConfig,
  type UniControlConfig,
  type UnrevealedConfig,
  type VaeConfig,
} from '../config.ts';
import { CheckpointError } from './checkpointError.ts';
import { PREFIX } from './prefixes.ts';

/** Tensor shapes by key, as a safetensors header lists them. */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

/**
 * The full configuration implied by `shapes` (every size the weights reveal) and `settings`
 * (attention heads, eps values, the ControlNet version; defaults are the real model's). Throws
 * `CheckpointError` naming the key it needed when a part of the model is absent.
 */
export function inferConfig(shapes: ShapeMap, settings: Partial<UnrevealedConfig> = {}): UniControlConfig {
  const s = { ...UNREVEALED_DEFAULTS, ...settings };
  const unet = inferTrunk(shapes, PREFIX.unet, s);
  const controlTrunk = inferTrunk(shapes, PREFIX.controlNet, s);
  for (const k of ['modelChannels', 'numResBlocks', 'contextDim', 'timeEmbedDim', 'transformerDepth'] as const) {
    if (controlTrunk[k] !== unet[k]) {
      throw new CheckpointError(`the ControlNet's ${k} (${controlTrunk[k]}) differs from the UNet's (${unet[k]}); the ControlNet must mirror the UNet's encoder`);
    }
  }
  if (controlTrunk.channelMult.join() !== unet.channelMult.join() || controlTrunk.attentionLevels.join() !== unet.attentionLevels.join()) {
    throw new CheckpointError(`the ControlNet's levels differ from the UNet's; the ControlNet must mirror the UNet's encoder`);
  }
  const controlNet: ControlNetConfig = {
    version: s.version,
    hintChannels: shapeOf(shapes, `${PREFIX.controlNet}input_hint_block_list_moe.0.0.weight`)[1],
    numTasks: countIndices(shapes, `${PREFIX.controlNet}input_hint_block_list_moe.`),
    taskFeatureDim: shapeOf(shapes, `${PREFIX.controlNet}task_id_hypernet.0.weight`)[1],
  };
  return { unet, controlNet, clip: inferClip(shapes, s), vae: inferVae(shapes, s) };
}

function inferTrunk(shapes: ShapeMap, prefix: string, s: UnrevealedConfig): UNetConfig {
  const convIn = shapeOf(shapes, `${prefix}input_blocks.0.0.weight`);
  const modelChannels = convIn[0];
  const blocks = countIndices(shapes, `${prefix}input_blocks.`);
  // Input blocks after conv_in: per level, numResBlocks ResBlocks then a Downsample (not after the last).
  const channelMult: number[] = [];
  const attentionLevels: boolean[] = [];
  let numResBlocks = 0;
  let run = 0;
  for (let i = 1; i < blocks; i++) {
    const b = `${prefix}input_blocks.${i}.`;
    if (shapes.has(`${b}0.op.weight`)) {
      numResBlocks = closeLevel(numResBlocks, run, prefix);
      run = 0;
      continue;
    }
    const out = shapeOf(shapes, `${b}0.in_layers.2.weight`)[0];
    if (run === 0) {
      channelMult.push(out / modelChannels);
      attentionLevels.push(shapes.has(`${b}1.norm.weight`));
    }
    run++;
  }
  numResBlocks = closeLevel(numResBlocks, run, prefix);
  if (channelMult.length === 0) throw new CheckpointError(`${prefix}input_blocks has no ResBlocks`);
  const attnLevel = attentionLevels.indexOf(true);
  const attnBlock = attnLevel < 0 ? undefined : `${prefix}input_blocks.${1 + attnLevel * (numResBlocks + 1)}.1.transformer_blocks.`;
  return {
    inChannels: convIn[1],
    outChannels: shapes.has(`${prefix}out.2.weight`) ? shapeOf(shapes, `${prefix}out.2.weight`)[0] : convIn[1],
    modelChannels,
    channelMult,
    numResBlocks,
    attentionLevels,
    timeEmbedDim: shapeOf(shapes, `${prefix}time_embed.0.weight`)[0],
    contextDim: attnBlock ? shapeOf(shapes, `${attnBlock}0.attn2.to_k.weight`)[1] : 0,
    transformerDepth: attnBlock ? countIndices(shapes, attnBlock) : 0,
    numHeads: s.unetHeads,
    resnetEps: s.resnetEps,
    transformerNormEps: s.transformerNormEps,
    layerNormEps: s.layerNormEps,
  };
}

function closeLevel(numResBlocks: number, run: number, prefix: string): number {
  if (numResBlocks !== 0 && run !== numResBlocks) {
    throw new CheckpointError(`${prefix}input_blocks: levels have different numbers of ResBlocks (${numResBlocks} and ${run})`);
  }
  return run;
}

function inferClip(shapes: ShapeMap, s: UnrevealedConfig): ClipConfig {
  const p = PREFIX.clip;
  const [vocabSize, hiddenSize] = shapeOf(shapes, `${p}embeddings.token_embedding.weight`);
  return {
    vocabSize,
    hiddenSize,
    numLayers: countIndices(shapes, `${p}encoder.layers.`),
    numHeads: s.clipHeads,
    intermediateSize: shapeOf(shapes, `${p}encoder.layers.0.mlp.fc1.weight`)[0],
    maxPositions: shapeOf(shapes, `${p}embeddings.position_embedding.weight`)[0],
    layerNormEps: s.clipLayerNormEps,
  };
}

function inferVae(shapes: ShapeMap, s: UnrevealedConfig): VaeConfig {
  const p = PREFIX.vae;
  const convIn = shapeOf(shapes, `${p}encoder.conv_in.weight`);
  const ch = convIn[0];
  const levels = countIndices(shapes, `${p}encoder.down.`);
  const chMult = Array.from({ length: levels }, (_, i) => shapeOf(shapes, `${p}encoder.down.${i}.block.0.conv1.weight`)[0] / ch);
  return {
    inChannels: convIn[1],
    outChannels: shapeOf(shapes, `${p}decoder.conv_out.weight`)[0],
    ch,
    chMult,
    numResBlocks: countIndices(shapes, `${p}encoder.down.0.block.`),
    zChannels: shapeOf(shapes, `${p}decoder.conv_in.weight`)[1],
    embedDim: shapeOf(shapes, `${p}post_quant_conv.weight`)[0],
    scaleFactor: s.scaleFactor,
    normEps: s.vaeNormEps,
  };
}

function shapeOf(shapes: ShapeMap, key: string): readonly number[] {
  const shape = shapes.get(key);
  if (!shape) throw new CheckpointError(`missing key ${key}, which the model's sizes are read from; not a UniControl checkpoint, or a part of it is absent`);
  return shape;
}

/** 1 + the largest i such that some key starts with `${prefix}${i}.` (0 when none does). */
function countIndices(shapes: ShapeMap, prefix: string): number {
  let n = 0;
  for (const key of shapes.keys()) {
    if (!key.startsWith(prefix)) continue;
    const i = Number.parseInt(key.slice(prefix.length), 10);
    if (Number.isInteger(i) && i + 1 > n) n = i + 1;
  }
  return n;
}

/** Channels must split into GroupNorm's 32 groups; say which width breaks that. */
export function checkGroups(config: UniControlConfig): void {
  const widths = [
    ...config.unet.channelMult.map((m) => m * config.unet.modelChannels),
    ...config.vae.chMult.map((m) => m * config.vae.ch),
  ];
  const bad = widths.find((c) => !Number.isInteger(c) || c % NORM_GROUPS !== 0);
  if (bad !== undefined) throw new CheckpointError(`channel width ${bad} is not a multiple of GroupNorm's ${NORM_GROUPS} groups`);
}
