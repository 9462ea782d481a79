import { stat } from 'node:fs/promises';
import { openSafetensors, type SafetensorsReader } from '@unicontrol/core';
import {
  CheckpointError,
  describeKeyReport,
  inspectCheckpoint,
  keyReportClean,
  PREFIX,
  TASKS,
  type CheckpointInspection,
  type UniControlConfig,
  type UnrevealedConfig,
} from '@unicontrol/model';
import { formatBytes } from '../download/progress.ts';
import { parseArgs, UsageError } from './args.ts';
import { summarizeKeyReport } from './checkWeights.ts';

export const INFO_USAGE = `usage: unicontrol info <weights> [--json] [--heads N] [--clip-heads N]

Reads a checkpoint's safetensors header (no weights are loaded) and prints the model it holds,
parameters per part, dtypes, the configuration its shapes imply, and every key the model lacks,
does not use, or expects with another shape. Exits 0 only for a loadable UniControl checkpoint.
Head counts are not stored in the file; widths that do not split into them are warned about.

  --heads N        UNet and ControlNet attention heads (default 8; shapes cannot tell)
  --clip-heads N   CLIP text encoder heads (default 12)
  --json           print the inspection as JSON`;

type Part = keyof typeof PREFIX | 'other';

const PART_NAMES: Record<Part, string> = { unet: 'UNet', controlNet: 'ControlNet', vae: 'VAE', clip: 'CLIP', other: 'other' };

/** Tensors and parameters of one model part (keys under one prefix). */
interface PartCount {
  tensors: number;
  parameters: number;
}

/** `unicontrol info`; returns the exit status. */
export async function infoCommand(argv: readonly string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, { valued: ['heads', 'clip-heads'], boolean: ['json'] });
  if (positional.length !== 1) throw new UsageError('info takes exactly one weights file');
  const settings: Partial<UnrevealedConfig> = {};
  const heads = countFlag(flags.get('heads'), '--heads');
  const clipHeads = countFlag(flags.get('clip-heads'), '--clip-heads');
  if (heads !== undefined) settings.unetHeads = heads;
  if (clipHeads !== undefined) settings.clipHeads = clipHeads;
  const file = positional[0];
  const json = flags.has('json');
  try {
    return await inspectFile(file, settings, json);
  } catch (e) {
    // JSON readers get an object even for an unreadable file; the error line goes to stderr too.
    if (json) process.stdout.write(`${JSON.stringify({ file, ok: false, error: (e as Error).message }, null, 2)}\n`);
    throw e;
  }
}

async function inspectFile(file: string, settings: Partial<UnrevealedConfig>, json: boolean): Promise<number> {
  const bytes = await fileSize(file);
  const reader = await openSafetensors(file);
  try {
    const parts = countParts(reader);
    const model = modelKind(reader.names);
    const out: string[] = [
      row('file', file),
      row('size', `${n(bytes)} bytes (${formatBytes(bytes)})`),
      row('model', model),
      row('tensors', `${reader.tensors.length} (${Object.entries(dtypeCounts(reader)).map(([d, n]) => `${d} ${n}`).join(', ')})`),
      ...describeParts(parts),
    ];
    let inspection: CheckpointInspection;
    try {
      inspection = inspectCheckpoint(reader, settings);
    } catch (e) {
      if (e instanceof CheckpointError && !json) process.stdout.write(`${out.join('\n')}\n`);
      throw e;
    }
    const { config, report, parameters, dtypes } = inspection;
    const ok = keyReportClean(report, true); // strict, as loadCheckpoint is by default
    const problems = describeKeyReport(report);
    const warnings = headWarnings(config);
    if (json) {
      const totalParameters = total(parts);
      process.stdout.write(`${JSON.stringify({ file, bytes, model, ok, tensors: reader.tensors.length, totalParameters, parameters, dtypes, config, report, problems, warnings }, null, 2)}\n`);
    } else {
      out.push('configuration', ...describeConfig(config));
      out.push(...warnings.map((w) => `warning: ${w}`));
      out.push(ok ? row('keys', `all ${reader.tensors.length} keys present with the expected shapes and dtypes`) : 'key problems');
      out.push(...problems.map((p) => `  ${p}`));
      out.push(ok ? 'OK: a loadable UniControl checkpoint' : 'NOT LOADABLE: see the key problems above');
      process.stdout.write(`${out.join('\n')}\n`);
    }
    if (ok) return 0;
    process.stderr.write(`unicontrol info: ${file} is not a loadable UniControl checkpoint: ${summarizeKeyReport(report)}\n`);
    return 1;
  } finally {
    await reader.close();
  }
}

/** The model a file's keys look like, before any shape is checked. */
function modelKind(names: readonly string[]): string {
  const has = (prefix: string): boolean => names.some((n) => n.startsWith(prefix));
  if (has(`${PREFIX.controlNet}input_hint_block_list_moe.`)) return 'UniControl (v1.0/v1.1 layout)';
  if (has(PREFIX.controlNet)) return 'ControlNet without per-task hint adapters (not UniControl)';
  if (has(PREFIX.unet)) return 'Stable Diffusion without a ControlNet (not UniControl)';
  return 'unknown: no UniControl, ControlNet or Stable Diffusion keys';
}

function countParts(reader: SafetensorsReader): Record<Part, PartCount> {
  const counts = Object.fromEntries(Object.keys(PART_NAMES).map((p) => [p, { tensors: 0, parameters: 0 }])) as Record<Part, PartCount>;
  const prefixes = Object.entries(PREFIX) as [keyof typeof PREFIX, string][];
  for (const t of reader.tensors) {
    const part = prefixes.find(([, prefix]) => t.name.startsWith(prefix))?.[0] ?? 'other';
    counts[part].tensors++;
    counts[part].parameters += t.shape.reduce((a, b) => a * b, 1);
  }
  return counts;
}

function total(parts: Record<Part, PartCount>): number {
  return Object.values(parts).reduce((n, p) => n + p.parameters, 0);
}

function dtypeCounts(reader: SafetensorsReader): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of reader.tensors) counts[t.dtype] = (counts[t.dtype] ?? 0) + 1;
  return counts;
}

function describeParts(parts: Record<Part, PartCount>): string[] {
  const width = Math.max(...Object.values(parts).map((p) => n(p.parameters).length));
  const lines = [row('parameters', n(total(parts)))];
  for (const [part, name] of Object.entries(PART_NAMES) as [Part, string][]) {
    const { tensors, parameters } = parts[part];
    if (part === 'other' && tensors === 0) continue;
    const where = part === 'other' ? 'schedule buffers and unknown keys' : `${PREFIX[part]}*`;
    lines.push(`  ${name.padEnd(11)} ${n(parameters).padStart(width)}  ${tensors === 0 ? `absent (no ${where} keys)` : `${tensors} tensors, ${where}`}`);
  }
  return lines;
}

function describeConfig({ unet, controlNet, clip, vae }: UniControlConfig): string[] {
  const levels = unet.attentionLevels.flatMap((a, i) => (a ? [i] : []));
  const named = TASKS.slice(0, controlNet.numTasks).map(([task]) => task.replace(/^control_/, ''));
  const unnamed = controlNet.numTasks > TASKS.length ? `, ${controlNet.numTasks - TASKS.length} without a task name` : '';
  return [
    `  UNet        channels ${unet.modelChannels} × [${unet.channelMult.join(', ')}], ${plural(unet.numResBlocks, 'res block')} per level, attention at levels [${levels.join(', ')}], transformer depth ${unet.transformerDepth}, ${unet.numHeads} heads (assumed; --heads), context width ${unet.contextDim}`,
    `  ControlNet  mirrors the UNet encoder; hint channels ${controlNet.hintChannels}, task feature width ${controlNet.taskFeatureDim}`,
    `  CLIP        text width ${clip.hiddenSize}, ${clip.numLayers} layers, ${clip.numHeads} heads (assumed; --clip-heads), MLP ${clip.intermediateSize}, vocabulary ${n(clip.vocabSize)}, ${clip.maxPositions} positions`,
    `  VAE         channels ${vae.ch} × [${vae.chMult.join(', ')}], ${plural(vae.numResBlocks, 'res block')} per level, latent channels ${vae.zChannels}`,
    `  tasks       ${controlNet.numTasks} hint adapters: ${named.join(', ')}${unnamed}`,
  ];
}

/**
 * Attention splits each attended width into heads; the file does not store the head counts, so a
 * width that does not split means the assumed count (default or flag) is not this model's.
 */
function headWarnings({ unet, clip }: UniControlConfig): string[] {
  const warnings: string[] = [];
  unet.channelMult.forEach((m, level) => {
    const width = unet.modelChannels * m;
    if (unet.attentionLevels[level] && width % unet.numHeads !== 0) {
      warnings.push(`UNet level ${level}: ${width} channels do not split into ${unet.numHeads} attention heads; pass this model's --heads`);
    }
  });
  if (clip.hiddenSize % clip.numHeads !== 0) {
    warnings.push(`CLIP width ${clip.hiddenSize} does not split into ${clip.numHeads} attention heads; pass this model's --clip-heads`);
  }
  return warnings;
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error(`${file} is not a file`);
    return s.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${file}: no such file`);
    throw e;
  }
}

function countFlag(v: string | true | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) === 0) throw new UsageError(`${flag} must be a positive integer, got ${String(v)}`);
  return Number(v);
}

function row(label: string, value: string): string {
  return `${label.padEnd(12)}${value}`;
}

function plural(k: number, what: string): string {
  return `${k} ${what}${k === 1 ? '' : 's'}`;
}

function n(x: number): string {
  return x.toLocaleString('en-US');
}
