// Hostile weight files (hostile.ts) through the API and the CLI. Each must give its specific error
// (what and where: the file, the tensor, the offsets) in bounded time and memory:
//   API: openSafetensors, inspectCheckpoint and UniControlModel.load reject with SafetensorsError or
//        CheckpointError naming the file, and leave no GPU memory behind;
//   CLI: info, verify --weights and generate --weights exit 1 with that error as one line on
//        stderr, no stack trace, never a signal.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, openSafetensors, SafetensorsError, type Device } from '@unicontrol/core';
import { CheckpointError, describeKeyReport, inspectCheckpoint, keyReportClean, UniControlModel } from '@unicontrol/model';
import { encodePng } from '@unicontrol/unicontrol';
import { cleanFailure, cli, cliInProcess, ensure, environment, HAVE_SHARED, pooled, rejection, TINY_DIR, TINY_MODEL, TINY_SETTINGS, VOCAB } from './helpers.ts';
import type { CliRun } from './helpers.ts';
import { hostileCases, type HostileCase } from './hostile.ts';
import { Tally } from './record.ts';

/** Longest any hostile file may take to be refused through the API (milliseconds). */
const API_MS = 3000;
/** Most host memory (JS heap + array buffers) one refusal may add (bytes); the tiny file is 19.6 MB. */
const API_BYTES = 64 << 20;

const api = new Tally(
  'weights-api',
  'Weight files: API',
  10,
  '`openSafetensors` + `inspectCheckpoint` and `UniControlModel.load` reject with `SafetensorsError` or `CheckpointError` whose message names the file and matches the specific problem (pattern per case), within 3 s and 64 MB of host memory, leaving GPU memory as it was.',
);
const cliTally = new Tally(
  'weights-cli',
  'Weight files: CLI',
  11,
  '`unicontrol info FILE`, `unicontrol verify <tiny fixtures> --weights FILE` and `unicontrol generate --weights FILE …` each exit with status 1, no signal, exactly one line on stderr (no stack trace) that names the file and matches the case\'s pattern.',
);

const NOTES: Record<string, string> = {
  truncated: 'cut inside the length, the header, a tensor, and the last byte',
  'header length absurd': 'length prefix from one past the file to 2^64 − 1, 0, short, long',
  'header not UTF-8 / JSON / object': 'bad UTF-8 (0xFF, overlong, surrogate, cut), not JSON, array/string/null/number',
  'entry: dtype / shape / size': 'unknown dtypes, shape and byte size disagreeing, bad dimensions',
  offsets: 'overlapping, aliased, out of range, reversed, negative, ≥ 2^53, holes, trailing bytes',
  'duplicate names': 'a tensor name twice (plain and escaped), a key twice in an entry',
  'another model': 'SD 1.5 without ControlNet, UNet alone, ControlNet alone, plain ControlNet, random and empty files, text, PNG',
  'missing / mis-shaped keys': 'missing, reshaped (same and other byte count), transposed, extra axis, unexpected, integer dtypes',
};

describe.skipIf(!HAVE_SHARED)('hostile weight files', () => {
  let device: Device;
  let dir: string;
  let cases: (HostileCase & { path: string })[];
  let photo: string;

  beforeAll(async () => {
    device = await createDevice();
    dir = mkdtempSync(join(tmpdir(), 'hostile-weights-'));
    const png = encodePng({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(200) });
    photo = join(dir, 'photo.png');
    writeFileSync(photo, png);
    cases = hostileCases(new Uint8Array(readFileSync(TINY_MODEL)), png).map((c, i) => {
      const path = join(dir, `case-${String(i).padStart(2, '0')}.safetensors`);
      writeFileSync(path, c.bytes);
      return { ...c, path };
    });
    for (const [group, note] of Object.entries(NOTES)) {
      api.group(group, note);
      cliTally.group(group, note);
    }
  });

  afterAll(() => {
    api.save(environment(device));
    cliTally.save(environment(device));
    device?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The API's refusal of one file: header, inspection, then a full load. */
  async function refuse(c: HostileCase & { path: string }): Promise<string> {
    const memBefore = process.memoryUsage();
    const gpuBefore = device.memory();
    const started = performance.now();
    // Header and key inspection (what `info` does): an error, or a report with problems.
    let inspected: string;
    try {
      const reader = await openSafetensors(c.path);
      try {
        const { report } = inspectCheckpoint(reader, TINY_SETTINGS);
        ensure(!keyReportClean(report, true), 'inspectCheckpoint found no problem');
        inspected = describeKeyReport(report).join('\n');
      } finally {
        await reader.close();
      }
    } catch (e) {
      ensure(e instanceof SafetensorsError || e instanceof CheckpointError, `inspection threw ${(e as Error).name}: ${(e as Error).message}`);
      inspected = e.message;
    }
    ensure(c.expect.test(inspected), `inspection said "${inspected}", which does not match ${c.expect}`);
    // The full load must refuse the same way, before uploading anything.
    const err = await rejection(() => UniControlModel.load(device, c.path, { settings: TINY_SETTINGS }));
    ensure(err instanceof SafetensorsError || err instanceof CheckpointError, `load threw ${err.name}: ${err.message}`);
    ensure(c.expect.test(err.message), `load said "${err.message}", which does not match ${c.expect}`);
    ensure(err.message.includes(c.path), `load's message does not name the file: ${err.message}`);
    const ms = performance.now() - started;
    const mem = process.memoryUsage();
    const grew = mem.heapUsed + mem.arrayBuffers - (memBefore.heapUsed + memBefore.arrayBuffers);
    ensure(ms < API_MS, `took ${ms.toFixed(0)} ms`);
    ensure(grew < API_BYTES, `host memory grew by ${grew} bytes`);
    ensure(device.memory().liveBytes === gpuBefore.liveBytes, `GPU live bytes ${gpuBefore.liveBytes} → ${device.memory().liveBytes}`);
    worst.ms = Math.max(worst.ms, ms);
    worst.bytes = Math.max(worst.bytes, grew);
    return `${err.name}: ${err.message.split('\n').slice(0, 2).join(' ').replace(c.path, '<file>')} (${ms.toFixed(0)} ms)`;
  }
  const worst = { ms: 0, bytes: 0 };

  it('the API refuses every file with its specific error, in bounded time and memory', async () => {
    for (const c of cases) await api.check(c.group, c.name, () => refuse(c));
    api.figure('slowest refusal (header, inspection and load)', `${worst.ms.toFixed(0)} ms`);
    api.figure('largest host memory growth during one refusal', `${(worst.bytes / 2 ** 20).toFixed(1)} MiB`);
    expect(api.failures()).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it('the CLI refuses every file in one line on stderr: info, verify --weights, generate --weights', async () => {
    const commands: [string, (path: string) => string[]][] = [
      ['info', (path) => ['info', path]],
      ['verify --weights', (path) => ['verify', TINY_DIR, '--weights', path, '--case', 'tokenizer']],
      [
        'generate --weights',
        (path) => ['generate', '--weights', path, '--vocab', VOCAB, '--heads', '2', '--clip-heads', '2', '--task', 'canny', '--image', photo, '--prompt', 'x', '--steps', '1', '--resolution', '64', '--out', join(dir, 'out.png')],
      ],
    ];
    const judge = (c: HostileCase & { path: string }, run: CliRun): string => {
      const line = cleanFailure(run);
      ensure(line.includes(c.path), `stderr does not name the file: ${line}`);
      ensure(c.expect.test(line), `stderr "${line}" does not match ${c.expect}`);
      return `exit ${run.status}: ${line.replace(c.path, '<file>')}`;
    };
    // Every file through main() in this process; one file per kind of error (safetensors, another
    // model, key report) also as a real child process (node bin/unicontrol.js), which adds Dawn's
    // stderr filter and the process's exit status and signal.
    for (const c of cases) {
      for (const [label, args] of commands) {
        const run = await cliInProcess(args(c.path));
        await cliTally.check(c.group, `${label}: ${c.name}`, () => judge(c, run));
      }
    }
    const firsts = ['truncated', 'another model', 'missing / mis-shaped keys'].map((g) => cases.find((c) => c.group === g)!);
    const jobs = firsts.flatMap((c) => commands.map(([label, args]) => async () => ({ c, label, run: await cli(args(c.path)) })));
    let slowest = 0;
    for (const { c, label, run } of await pooled(jobs, 3)) {
      slowest = Math.max(slowest, run.ms);
      await cliTally.check(c.group, `${label} (child process): ${c.name}`, () => judge(c, run));
    }
    cliTally.figure('commands run in-process (main())', cases.length * commands.length);
    cliTally.figure('commands run as child processes', jobs.length);
    cliTally.figure('slowest child-process refusal (start to exit)', `${slowest.toFixed(0)} ms`);
    expect(cliTally.failures()).toEqual([]);
  });
});
