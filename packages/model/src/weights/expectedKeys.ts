// Every key (and its shape) the official ControlLDM.state_dict() holds for a configuration: the
// spec a checkpoint is checked against before any GPU work.

import type { ClipConfig, UNetConfig, UniControlConfig, VaeConfig } from '../config.ts';
import { HINT_MOE_CHANNELS, HINT_SHARE_CHANNELS, POSITION_IDS, PREFIX, SCHEDULE_BUFFERS } from './prefixes.ts';

/** What the model expects of one key. */
export interface ExpectedKey {
  shape: number[];
  /** 'float' for weights (any float file dtype), 'int' for CLIP's position ids. */
  kind: 'float' | 'int';
}

type Keys = Map<string, ExpectedKey>;

/** The keys of the whole checkpoint, in state-dict order within each part. */
export function expectedKeys(config: UniControlConfig): Map<string, ExpectedKey> {
  const keys: Keys = new Map();
  for (const name of SCHEDULE_BUFFERS) keys.set(name, { shape: [1000], kind: 'float' });
  const unet = new KeySet(keys, PREFIX.unet);
  const skips = trunkKeys(unet, config.unet);
  unetDecoderKeys(unet, config.unet, skips);
  controlNetKeys(new KeySet(keys, PREFIX.controlNet), config);
  vaeKeys(new KeySet(keys, PREFIX.vae), config.vae);
  clipKeys(new KeySet(keys, PREFIX.clip), config.clip);
  keys.set(POSITION_IDS, { shape: [1, config.clip.maxPositions], kind: 'int' });
  return keys;
}

class KeySet {
  constructor(
    readonly keys: Keys,
    readonly prefix: string,
  ) {}
  at(sub: string): KeySet {
    return new KeySet(this.keys, `${this.prefix}${sub}.`);
  }
  add(name: string, shape: number[]): void {
    this.keys.set(`${this.prefix}${name}`, { shape, kind: 'float' });
  }
  /** weight + bias of a Linear / Conv2d (`shape` = the weight's). */
  layer(name: string, shape: number[]): void {
    this.add(`${name}.weight`, shape);
    this.add(`${name}.bias`, [shape[0]]);
  }
  conv(name: string, out: number, inC: number, k: number): void {
    this.layer(name, [out, inC, k, k]);
  }
  norm(name: string, c: number): void {
    this.add(`${name}.weight`, [c]);
    this.add(`${name}.bias`, [c]);
  }
}

function timeEmbedKeys(k: KeySet, c: UNetConfig): void {
  k.layer('time_embed.0', [c.timeEmbedDim, c.modelChannels]);
  k.layer('time_embed.2', [c.timeEmbedDim, c.timeEmbedDim]);
}

function resBlockKeys(k: KeySet, inC: number, out: number, temb: number): void {
  k.norm('in_layers.0', inC);
  k.conv('in_layers.2', out, inC, 3);
  k.layer('emb_layers.1', [out, temb]);
  k.norm('out_layers.0', out);
  k.conv('out_layers.3', out, out, 3);
  if (inC !== out) k.conv('skip_connection', out, inC, 1);
}

function transformerKeys(k: KeySet, ch: number, c: UNetConfig): void {
  k.norm('norm', ch);
  k.conv('proj_in', ch, ch, 1);
  for (let d = 0; d < c.transformerDepth; d++) {
    const b = k.at(`transformer_blocks.${d}`);
    for (const [attn, kvDim] of [['attn1', ch], ['attn2', c.contextDim]] as const) {
      b.add(`${attn}.to_q.weight`, [ch, ch]);
      b.add(`${attn}.to_k.weight`, [ch, kvDim]);
      b.add(`${attn}.to_v.weight`, [ch, kvDim]);
      b.layer(`${attn}.to_out.0`, [ch, ch]);
    }
    b.layer('ff.net.0.proj', [8 * ch, ch]);
    b.layer('ff.net.2', [ch, 4 * ch]);
    for (const n of ['norm1', 'norm2', 'norm3']) b.norm(n, ch);
  }
  k.conv('proj_out', ch, ch, 1);
}

/** The encoder half the UNet and ControlNet share; returns the channels of each input block. */
function trunkKeys(k: KeySet, c: UNetConfig): number[] {
  timeEmbedKeys(k, c);
  k.conv('input_blocks.0.0', c.modelChannels, c.inChannels, 3);
  const skips = [c.modelChannels];
  let ch = c.modelChannels;
  let block = 1;
  c.channelMult.forEach((mult, level) => {
    const out = mult * c.modelChannels;
    for (let r = 0; r < c.numResBlocks; r++, block++) {
      resBlockKeys(k.at(`input_blocks.${block}.0`), ch, out, c.timeEmbedDim);
      if (c.attentionLevels[level]) transformerKeys(k.at(`input_blocks.${block}.1`), out, c);
      ch = out;
      skips.push(ch);
    }
    if (level < c.channelMult.length - 1) {
      k.conv(`input_blocks.${block++}.0.op`, ch, ch, 3);
      skips.push(ch);
    }
  });
  const mid = k.at('middle_block');
  resBlockKeys(mid.at('0'), ch, ch, c.timeEmbedDim);
  transformerKeys(mid.at('1'), ch, c);
  resBlockKeys(mid.at('2'), ch, ch, c.timeEmbedDim);
  return skips;
}

function unetDecoderKeys(k: KeySet, c: UNetConfig, skips: number[]): void {
  const stack = [...skips];
  let ch = c.modelChannels * c.channelMult[c.channelMult.length - 1];
  let block = 0;
  for (let level = c.channelMult.length - 1; level >= 0; level--) {
    const out = c.modelChannels * c.channelMult[level];
    for (let r = 0; r <= c.numResBlocks; r++, block++) {
      const b = k.at(`output_blocks.${block}`);
      resBlockKeys(b.at('0'), ch + (stack.pop() ?? 0), out, c.timeEmbedDim);
      ch = out;
      let sub = 1;
      if (c.attentionLevels[level]) transformerKeys(b.at(`${sub++}`), ch, c);
      if (level > 0 && r === c.numResBlocks) b.conv(`${sub}.conv`, ch, ch, 3);
    }
  }
  k.norm('out.0', ch);
  k.conv('out.2', c.outChannels, ch, 3);
}

function controlNetKeys(k: KeySet, config: UniControlConfig): void {
  const c = config.unet;
  const cn = config.controlNet;
  const skips = trunkKeys(k, c);
  const temb = c.timeEmbedDim;
  skips.forEach((ch, i) => {
    k.conv(`zero_convs.${i}.0`, ch, ch, 1);
    k.layer(`task_id_layernet.${i}`, [ch, temb]);
  });
  const midCh = skips[skips.length - 1];
  k.conv('middle_block_out.0', midCh, midCh, 1);
  for (let t = 0; t < cn.numTasks; t++) {
    let inC: number = cn.hintChannels;
    HINT_MOE_CHANNELS.forEach((out, j) => {
      k.conv(`input_hint_block_list_moe.${t}.${2 * j}`, out, inC, 3);
      inC = out;
    });
  }
  const moeOut = HINT_MOE_CHANNELS[HINT_MOE_CHANNELS.length - 1];
  let inC: number = moeOut;
  HINT_SHARE_CHANNELS.forEach((out, j) => {
    k.conv(`input_hint_block_share.${2 * j}`, out, inC, 3);
    inC = out;
  });
  const shareOut = HINT_SHARE_CHANNELS[HINT_SHARE_CHANNELS.length - 1];
  for (const j of [0, 1]) {
    k.conv(`input_hint_block_zeroconv_0.${j}`, moeOut, moeOut, 3);
    k.conv(`input_hint_block_zeroconv_1.${j}`, c.modelChannels, shareOut, 3);
  }
  k.layer('task_id_layernet_zeroconv_0', [moeOut, temb]);
  k.layer('task_id_layernet_zeroconv_1', [shareOut, temb]);
  k.layer('task_id_hypernet.0', [temb, cn.taskFeatureDim]);
  k.layer('task_id_hypernet.2', [temb, temb]);
}

function vaeResKeys(k: KeySet, inC: number, out: number): void {
  k.norm('norm1', inC);
  k.conv('conv1', out, inC, 3);
  k.norm('norm2', out);
  k.conv('conv2', out, out, 3);
  if (inC !== out) k.conv('nin_shortcut', out, inC, 1);
}

function vaeMidKeys(k: KeySet, ch: number): void {
  vaeResKeys(k.at('block_1'), ch, ch);
  const a = k.at('attn_1');
  a.norm('norm', ch);
  for (const n of ['q', 'k', 'v', 'proj_out']) a.conv(n, ch, ch, 1);
  vaeResKeys(k.at('block_2'), ch, ch);
}

function vaeKeys(k: KeySet, c: VaeConfig): void {
  const widths = c.chMult.map((m) => m * c.ch);
  const top = widths[widths.length - 1];
  const enc = k.at('encoder');
  enc.conv('conv_in', c.ch, c.inChannels, 3);
  let ch = c.ch;
  widths.forEach((out, level) => {
    for (let r = 0; r < c.numResBlocks; r++) {
      vaeResKeys(enc.at(`down.${level}.block.${r}`), ch, out);
      ch = out;
    }
    if (level < widths.length - 1) enc.conv(`down.${level}.downsample.conv`, ch, ch, 3);
  });
  vaeMidKeys(enc.at('mid'), top);
  enc.norm('norm_out', top);
  enc.conv('conv_out', 2 * c.zChannels, top, 3);

  const dec = k.at('decoder');
  dec.conv('conv_in', top, c.zChannels, 3);
  vaeMidKeys(dec.at('mid'), top);
  ch = top;
  for (let level = widths.length - 1; level >= 0; level--) {
    for (let r = 0; r <= c.numResBlocks; r++) {
      vaeResKeys(dec.at(`up.${level}.block.${r}`), ch, widths[level]);
      ch = widths[level];
    }
    if (level > 0) dec.conv(`up.${level}.upsample.conv`, ch, ch, 3);
  }
  dec.norm('norm_out', ch);
  dec.conv('conv_out', c.outChannels, ch, 3);
  k.conv('quant_conv', 2 * c.embedDim, 2 * c.zChannels, 1);
  k.conv('post_quant_conv', c.zChannels, c.embedDim, 1);
}

function clipKeys(k: KeySet, c: ClipConfig): void {
  k.add('embeddings.token_embedding.weight', [c.vocabSize, c.hiddenSize]);
  k.add('embeddings.position_embedding.weight', [c.maxPositions, c.hiddenSize]);
  for (let l = 0; l < c.numLayers; l++) {
    const b = k.at(`encoder.layers.${l}`);
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) b.layer(`self_attn.${p}`, [c.hiddenSize, c.hiddenSize]);
    b.norm('layer_norm1', c.hiddenSize);
    b.layer('mlp.fc1', [c.intermediateSize, c.hiddenSize]);
    b.layer('mlp.fc2', [c.hiddenSize, c.intermediateSize]);
    b.norm('layer_norm2', c.hiddenSize);
  }
  k.norm('final_layer_norm', c.hiddenSize);
}
