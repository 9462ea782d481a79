// `unicontrol info` and `unicontrol tasks`, run as the user runs them: a child process. The
// checkpoints are the oracle's tiny model and edited copies of it, plus a sparse file with the real
// model's header (its data section is a hole, so it costs no disk).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '@unicontrol/core';
import { TASKS } from '@unicontrol/model';
import { taskRows, type TaskRow } from '../src/cli/tasks.ts';

const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const TINY = join(SHARED, 'fixtures/tiny/');
const MODEL = join(TINY, 'model.safetensors');
const HAVE_SHARED = existsSync(MODEL);
const BIN = fileURLToPath(new URL('../bin/unicontrol.js', import.meta.url));

if (process.env.CI && !HAVE_SHARED) throw new Error(`${MODEL} is missing (CI is set, so these tests fail rather than skip)`);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

/** Exit status 1 with exactly one line on stderr, and no stack trace. */
function expectOneLineFailure(r: ReturnType<typeof cli>): string {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  return r.stderr;
}

/** A tensor of a file being rewritten: name, dtype, shape and its bytes. */
interface Tensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Writes a safetensors file holding `tensors` back to back. */
function writeTensors(path: string, tensors: readonly Tensor[]): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, ...tensors.map((t) => t.bytes)]));
}

describe.skipIf(!HAVE_SHARED && !process.env.CI)('unicontrol info', () => {
  let dir: string;
  let tiny: Tensor[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-info-'));
    const reader = await openSafetensors(MODEL);
    tiny = await Promise.all(reader.tensors.map(async (t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: await reader.read(t.name) })));
    await reader.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the tiny model edited by `edit`. */
  function edited(name: string, edit: (tensors: Tensor[]) => Tensor[]): string {
    const path = join(dir, name);
    writeTensors(path, edit(tiny.map((t) => ({ ...t, shape: [...t.shape] }))));
    return path;
  }

  it('describes the tiny fixture and exits 0', () => {
    const r = cli('info', MODEL);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^size +19,592,156 bytes \(19\.6 MB\)$/m);
    expect(r.stdout).toMatch(/^model +UniControl \(v1\.0\/v1\.1 layout\)$/m);
    expect(r.stdout).toMatch(/^tensors +764 \(F32 763, I64 1\)$/m);
    expect(r.stdout).toMatch(/^parameters +4,874,096$/m);
    expect(r.stdout).toMatch(/^ {2}UNet +1,055,044 +286 tensors, model\.diffusion_model\.\*$/m);
    expect(r.stdout).toMatch(/^ {2}ControlNet +1,176,368 /m);
    expect(r.stdout).toMatch(/^ {2}VAE +1,028,935 /m);
    expect(r.stdout).toMatch(/^ {2}CLIP +1,600,749 /m);
    expect(r.stdout).toMatch(/UNet +channels 32 × \[1, 2\], 1 res block per level, attention at levels \[0, 1\]/);
    expect(r.stdout).toMatch(/CLIP +text width 32, 2 layers/);
    expect(r.stdout).toMatch(/tasks +13 hint adapters: hed, canny, seg, .*, inpainting$/m);
    // The tiny model has 2 CLIP heads; the real model's default of 12 does not split its width.
    expect(r.stdout).toContain('warning: CLIP width 32 does not split into 12 attention heads');
    expect(r.stdout).toMatch(/^OK: a loadable UniControl checkpoint$/m);
  });

  it('--json prints the inspection, with the head counts the flags give', () => {
    const r = cli('info', MODEL, '--json', '--heads', '2', '--clip-heads', '2');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ ok: true, tensors: 764, totalParameters: 4_874_096, dtypes: { F32: 763, I64: 1 }, problems: [], warnings: [] });
    expect(j.parameters).toEqual({ unet: 1_055_044, controlNet: 1_176_368, vae: 1_028_935, clip: 1_600_749, other: 13_000 });
    expect(j.config.unet).toMatchObject({ modelChannels: 32, channelMult: [1, 2], numHeads: 2 });
    expect(j.config.clip.numHeads).toBe(2);
    expect(j.report).toEqual({ missing: [], unexpected: [], misshaped: [], wrongDType: [] });
  });

  it('names a missing key and exits 1', () => {
    const path = edited('missing.safetensors', (ts) => ts.filter((t) => t.name !== 'model.diffusion_model.out.2.bias'));
    const r = cli('info', path);
    expect(expectOneLineFailure(r)).toContain(`${path} is not a loadable UniControl checkpoint: 1 key missing`);
    expect(r.stdout).toContain('1 missing keys (model.*: 1):\n    model.diffusion_model.out.2.bias');
    expect(r.stdout).toMatch(/^NOT LOADABLE/m);
  });

  it('names a key with the wrong shape and exits 1', () => {
    const path = edited('shape.safetensors', (ts) => {
      ts.find((t) => t.name === 'model.diffusion_model.out.2.weight')!.shape = [4, 32, 9, 1]; // same byte count
      return ts;
    });
    const r = cli('info', path);
    expect(expectOneLineFailure(r)).toContain('1 key with the wrong shape');
    expect(r.stdout).toContain('model.diffusion_model.out.2.weight: expected [4, 32, 3, 3], file has [4, 32, 9, 1]');
  });

  it('names an unexpected key and a key with an unusable dtype', () => {
    const path = edited('extra.safetensors', (ts) => {
      const w = ts.find((t) => t.name === 'model.diffusion_model.out.2.bias')!;
      w.dtype = 'I32'; // 4 bytes per element, as F32
      return [...ts, { name: 'model.diffusion_model.extra', dtype: 'F32', shape: [2], bytes: new Uint8Array(8) }];
    });
    const r = cli('info', path);
    expect(expectOneLineFailure(r)).toContain('1 key unexpected, 1 key with an unusable dtype');
    expect(r.stdout).toContain('model.diffusion_model.extra');
    expect(r.stdout).toContain('model.diffusion_model.out.2.bias: expected a float type, file has I32');
  });

  it('rejects a truncated file with the safetensors error', () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(MODEL);
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    const err = expectOneLineFailure(cli('info', path));
    expect(err).toMatch(/run past the end of the data section .*truncated file\?/);
  });

  it('rejects a file that is not safetensors at all', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'these are not the weights you are looking for\n');
    expect(expectOneLineFailure(cli('info', path))).toContain('runs past the end of the file (46 bytes, so at most 38 bytes of header); truncated or not a safetensors file');
  });

  it('says what a Stable Diffusion UNet alone is, and why it cannot load', () => {
    const path = edited('unet-only.safetensors', (ts) => ts.filter((t) => t.name.startsWith('model.diffusion_model.')));
    const r = cli('info', path);
    expect(expectOneLineFailure(r)).toContain('not a loadable UniControl checkpoint: missing key control_model.input_blocks.0.0.weight');
    expect(r.stdout).toMatch(/^model +Stable Diffusion without a ControlNet \(not UniControl\)$/m);
    expect(r.stdout).toMatch(/^ {2}ControlNet +0 +absent \(no control_model\.\* keys\)$/m);
    expect(r.stdout).not.toContain('OK:');
  });

  it('rejects a ControlNet alone', () => {
    const path = edited('controlnet-only.safetensors', (ts) => ts.filter((t) => t.name.startsWith('control_model.')));
    expect(expectOneLineFailure(cli('info', path))).toContain('missing key model.diffusion_model.input_blocks.0.0.weight');
  });

  it('--json reports failures as JSON too, with the same exit status', () => {
    const path = edited('unet-only-json.safetensors', (ts) => ts.filter((t) => t.name.startsWith('model.diffusion_model.')));
    const r = cli('info', path, '--json');
    expectOneLineFailure(r);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: path, ok: false, error: expect.stringContaining('missing key control_model.') });
    const missing = cli('info', join(dir, 'no-such.safetensors'), '--json');
    expect(expectOneLineFailure(missing)).toContain('no-such.safetensors: no such file');
    expect(JSON.parse(missing.stdout).ok).toBe(false);
  });

  it('reads the real model layout (1.44 B parameters) from a header over a sparse file', () => {
    const realKeys = JSON.parse(readFileSync(join(TINY, 'real_keys.json'), 'utf8')) as {
      num_elements: number;
      keys: { name: string; shape: number[]; dtype: string }[];
    };
    const sizes: Record<string, [string, number]> = { float32: ['F32', 4], int64: ['I64', 8] };
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const k of realKeys.keys) {
      const [dtype, bytes] = sizes[k.dtype];
      const n = k.shape.reduce((a, b) => a * b, bytes);
      header[k.name] = { dtype, shape: k.shape, data_offsets: [offset, offset + n] };
      offset += n;
    }
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, 'real-layout.st');
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.concat([prefix, json]));
    ftruncateSync(fd, 8 + json.length + offset); // the data section stays a hole
    closeSync(fd);

    const r = cli('info', path);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^parameters +${realKeys.num_elements.toLocaleString('en-US')}$`, 'm'));
    expect(r.stdout).toMatch(/UNet +channels 320 × \[1, 2, 4, 4\], 2 res blocks per level, attention at levels \[0, 1, 2\], transformer depth 1, 8 heads/);
    expect(r.stdout).toMatch(/CLIP +text width 768, 12 layers, 12 heads .*vocabulary 49,408, 77 positions/);
    expect(r.stdout).toMatch(/VAE +channels 128 × \[1, 2, 4, 4\], 2 res blocks per level, latent channels 4/);
    expect(r.stdout).not.toContain('warning');
    expect(r.stdout).toMatch(/^OK: a loadable UniControl checkpoint$/m);
  });

  it('usage errors exit 2', () => {
    expect(cli('info').status).toBe(2);
    expect(cli('info', MODEL, '--heads', 'many').status).toBe(2);
    expect(cli('info', MODEL, '--heads', '0').stderr).toContain('--heads must be a positive integer, got 0');
  });
});

describe('unicontrol tasks', () => {
  it('lists the 13 tasks in hint-adapter order with instructions and preprocessors', () => {
    const r = cli('tasks');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + TASKS.length);
    expect(lines[0]).toMatch(/^# +task +instruction +condition from +condition image$/);
    expect(lines[1]).toMatch(/^0 +hed +hed edge to image +you supply the map +HED/);
    expect(lines[2]).toMatch(/^1 +canny +canny edge to image +built-in: canny +Canny/);
    expect(lines[13]).toMatch(/^12 +inpainting +image inpainting +built-in: inpainting +/);
  });

  it('--json gives the table; built-in preprocessors are exactly the six the package makes', () => {
    const r = cli('tasks', '--json');
    expect(r.status, r.stderr).toBe(0);
    const table = JSON.parse(r.stdout) as TaskRow[];
    expect(table).toEqual(taskRows());
    expect(table.map((t) => [t.task, t.instruction])).toEqual(TASKS.map(([task, instruction]) => [task, instruction]));
    expect(table.filter((t) => t.preprocessor).map((t) => [t.name, t.preprocessor])).toEqual([
      ['canny', 'canny'],
      ['bbox', 'bbox'],
      ['outpainting', 'outpainting'],
      ['grayscale', 'grayscale'],
      ['blur', 'blur'],
      ['inpainting', 'inpainting'],
    ]);
    expect(table.filter((t) => !t.preprocessor).map((t) => t.name)).toEqual(['hed', 'seg', 'depth', 'normal', 'openpose', 'img', 'hedsketch']);
    for (const t of table) expect(t.condition.length).toBeGreaterThan(5);
  });

  it('rejects arguments', () => {
    expect(cli('tasks', 'canny').status).toBe(2);
  });
});
