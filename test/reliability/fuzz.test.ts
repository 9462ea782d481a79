// Seeded fuzzing of the tiny checkpoint: byte flips in the length and header, random truncations,
// random edits of the header's JSON, and byte flips in the data, 1050 cases. A case passes when
// the library's outcome is the one an independent reading of the format (oracle.ts) calls for:
//   invalid file                         → SafetensorsError naming the file;
//   valid file, other keys/shapes/dtypes → CheckpointError naming the file, or a key report with problems;
//   valid file, the same keys            → a clean inspection whose listing equals the oracle's
//                                          (names, dtypes, shapes, offsets, data start).
// "Correct load" therefore means: the file loads exactly when it is a valid safetensors file with
// the model's keys, and then every tensor is read from where the header says. For a sample of the
// accepted files whose bytes differ from the original (flipped data, swapped offsets) the model is
// loaded on the GPU and the affected tensors are compared with the oracle's decoding of the file.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, openSafetensors, SafetensorsError, type ByteSource, type Device } from '@unicontrol/core';
import { CheckpointError, inspectCheckpoint, keyReportClean, UniControlModel } from '@unicontrol/model';
import { ensure, environment, HAVE_SHARED, TINY_MODEL, TINY_SETTINGS } from './helpers.ts';
import { SafetensorsParts } from './hostile.ts';
import { oracleRead, type OracleEntry } from './oracle.ts';
import { Tally } from './record.ts';

const SEED = 20261126;
const COUNTS = { 'length and header byte flips': 400, 'random truncations': 250, 'random header JSON edits': 300, 'data byte flips': 100 };
/** Accepted files that differ from the original, per group, loaded on the GPU to check their tensors. */
const GPU_LOADS = 3;
/** Longest any single case may take (header read, inspection, oracle), milliseconds. */
const CASE_MS = 2000;

const tally = new Tally(
  'weights-fuzz',
  'Weight files: seeded fuzz',
  12,
  'the outcome agrees with an independent reading of the format: invalid → `SafetensorsError` naming the file; valid with other keys → `CheckpointError` or a key report with problems; valid with the model\'s keys → a clean inspection listing exactly the tensors, dtypes, shapes and offsets the header declares (and, for a GPU-loaded sample, tensors equal to the file\'s bytes at those offsets); each case within 2 s.',
);

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A file made of byte ranges (views of the original plus small patches): no 20 MB copies. */
class PatchedFile {
  readonly size: number;
  constructor(readonly parts: Uint8Array[]) {
    this.size = parts.reduce((n, p) => n + p.length, 0);
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - offset)));
    let base = 0;
    for (const p of this.parts) {
      const from = Math.max(offset, base);
      const to = Math.min(offset + out.length, base + p.length);
      if (from < to) out.set(p.subarray(from - base, to - base), from - offset);
      base += p.length;
    }
    return out;
  }

  source(name: string): ByteSource {
    return { size: this.size, name, read: async (offset, length) => this.read(offset, length) };
  }
}

/** One fuzz case: a file and what was done to it. */
interface FuzzCase {
  group: keyof typeof COUNTS;
  what: string;
  file: PatchedFile;
  /** File offsets of flipped data bytes. */
  flips?: number[];
}

const DTYPES: unknown[] = ['F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'U64', 'U32', 'U8', 'BOOL', 'F8_E4M3', 'F128', 'f32', '', null, 4];

function makeCases(tiny: Uint8Array): FuzzCase[] {
  const r = rng(SEED);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const p = new SafetensorsParts(tiny);
  const n = p.headerLength;
  const head = tiny.subarray(0, 8 + n);
  const names = Object.keys(p.header()).filter((k) => k !== '__metadata__');
  const cases: FuzzCase[] = [];

  for (let i = 0; i < COUNTS['length and header byte flips']; i++) {
    const at = i < 32 ? i % 8 : int(8 + n); // every byte of the length prefix at least 4 times
    const x = 1 + int(255);
    const h = head.slice();
    h[at] ^= x;
    cases.push({ group: 'length and header byte flips', what: `byte ${at} ^= 0x${x.toString(16)}`, file: new PatchedFile([h, p.data]) });
  }
  for (let i = 0; i < COUNTS['random truncations']; i++) {
    const at = i % 2 === 0 ? int(8 + n + 64) : int(tiny.length); // half near the header, half anywhere
    cases.push({ group: 'random truncations', what: `cut at byte ${at} of ${tiny.length}`, file: new PatchedFile([tiny.subarray(0, at)]) });
  }
  type Header = Record<string, Record<string, unknown>>;
  const edits: [string, (h: Header, name: string) => string][] = [
    ['dtype', (h, k) => `${k}.dtype = ${JSON.stringify((h[k].dtype = pick(DTYPES) as string))}`],
    ['dimension', (h, k) => {
      const shape = [...(h[k].shape as number[])];
      if (shape.length === 0) return `${k}: scalar, unchanged`;
      const d = int(shape.length);
      shape[d] = pick([shape[d] + 1, shape[d] - 1, 0, shape[d] * 2, -shape[d], shape[d] + 0.5, 2 ** 53, shape[d] * 4]);
      h[k].shape = shape;
      return `${k}.shape = ${JSON.stringify(shape)}`;
    }],
    ['shape, same size', (h, k) => {
      const shape = h[k].shape as number[];
      h[k].shape = pick([[...shape, 1], [1, ...shape], [...shape].reverse(), [shape.reduce((a, b) => a * b, 1)]]);
      return `${k}.shape = ${JSON.stringify(h[k].shape)}`;
    }],
    ['offsets', (h, k) => {
      const [b, e] = h[k].data_offsets as number[];
      const s = pick([1, 2, 4, 4000, -4]);
      h[k].data_offsets = pick([[b + s, e + s], [b, e + s], [e, b], [b, b], [b, 2 ** 53], [b], 'x']);
      return `${k}.data_offsets = ${JSON.stringify(h[k].data_offsets)}`;
    }],
    ['swap offsets of two tensors of equal size', (h, k) => {
      const size = (x: string): number => (h[x].data_offsets as number[])[1] - (h[x].data_offsets as number[])[0];
      const others = names.filter((o) => o !== k && size(o) === size(k) && h[o].dtype === h[k].dtype);
      if (others.length === 0) return `${k}: no tensor of equal size, unchanged`;
      const o = pick(others);
      [h[k].data_offsets, h[o].data_offsets] = [h[o].data_offsets, h[k].data_offsets];
      return `swap offsets of ${k} and ${o}`;
    }],
    ['rename', (h, k) => {
      const to = pick([`${k}x`, k.toUpperCase(), k.slice(0, -1), k.replace('.', '_'), `${k} `]);
      h[to] = h[k];
      if (to !== k) delete h[k];
      return `rename ${k} → ${to}`;
    }],
    ['delete', (h, k) => {
      delete h[k];
      return `delete ${k}`;
    }],
    ['extra field', (h, k) => {
      h[k].extra = pick([1, 'x', null, [1]]);
      return `${k}.extra = ${JSON.stringify(h[k].extra)}`;
    }],
    ['metadata', (h) => {
      const v = pick<unknown>([{ format: 'pt' }, { n: 1 }, [], 'pt', null, { nested: { a: 'b' } }, undefined]);
      if (v === undefined) delete h.__metadata__;
      else h.__metadata__ = v as Record<string, unknown>;
      return `__metadata__ = ${JSON.stringify(v)}`;
    }],
    ['entry replaced', (h, k) => {
      const v = pick<unknown>([7, 'F32', null, [], {}]);
      (h as Record<string, unknown>)[k] = v;
      return `${k} = ${JSON.stringify(v)}`;
    }],
  ];
  for (let i = 0; i < COUNTS['random header JSON edits']; i++) {
    const [label, edit] = edits[i % edits.length]; // every edit equally often, on random tensors
    const h = p.header() as Header;
    const k = pick(names);
    const what = `${label}: ${edit(h, k)}`;
    let text = JSON.stringify(h);
    if (i % 25 === 24) text = `{"${k}":${JSON.stringify(p.header()[k])},${text.slice(1)}`; // a textual duplicate
    const bytes = new TextEncoder().encode(text);
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(bytes.length), true);
    cases.push({ group: 'random header JSON edits', what: i % 25 === 24 ? `${what}; ${k} duplicated` : what, file: new PatchedFile([prefix, bytes, p.data]) });
  }
  for (let i = 0; i < COUNTS['data byte flips']; i++) {
    const flips = [...new Set(Array.from({ length: 1 + int(3) }, () => 8 + n + int(p.data.length)))].sort((a, b) => a - b);
    const parts: Uint8Array[] = [];
    let at = 0;
    for (const f of flips) {
      parts.push(tiny.subarray(at, f), Uint8Array.of(tiny[f] ^ (1 + int(255))));
      at = f + 1;
    }
    parts.push(tiny.subarray(at));
    cases.push({ group: 'data byte flips', what: `bytes ${flips.join(', ')} flipped`, file: new PatchedFile(parts), flips });
  }
  return cases;
}

describe.skipIf(!HAVE_SHARED)('seeded fuzz of the tiny checkpoint', () => {
  let device: Device;
  let tiny: Uint8Array;
  let original: Map<string, OracleEntry>;

  beforeAll(async () => {
    device = await createDevice();
    tiny = new Uint8Array(readFileSync(TINY_MODEL));
    const o = oracleRead(tiny.length, (at, len) => tiny.subarray(at, at + len));
    if (!o.valid) throw new Error(`the oracle rejects the original: ${o.why}`);
    original = new Map(o.entries.map((e) => [e.name, e]));
    tally.group('length and header byte flips', 'one byte of the first 8 + header bytes XOR a random non-zero value (each length byte 4×)');
    tally.group('random truncations', 'cut at a random byte (half within the header and just after, half anywhere)');
    tally.group('random header JSON edits', 'dtype, one dimension, same-size reshapes, offsets, swapped offsets, renames, deletions, extra fields, metadata, whole entries; every 25th with a textual duplicate name');
    tally.group('data byte flips', '1–3 random data bytes XOR a random non-zero value');
  });
  afterAll(() => {
    tally.save(environment(device));
    device?.destroy();
  });

  it(`gives a clean error or a correct load for ${Object.values(COUNTS).reduce((a, b) => a + b)} mutations (seed ${SEED})`, async () => {
    const cases = makeCases(tiny);
    const outcomes = new Map<string, number>();
    const count = (k: string): void => void outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    const toLoad: { c: FuzzCase; name: string; changed: OracleEntry[]; dataStart: number }[] = [];
    let slowest = 0;
    for (const [i, c] of cases.entries()) {
      const name = `fuzz-${i}.safetensors`;
      await tally.check(c.group, `#${i} ${c.what}`, async () => {
        const started = performance.now();
        const o = oracleRead(c.file.size, (at, len) => c.file.read(at, len));
        const sameKeys = o.valid && o.entries.length === original.size && o.entries.every((e) => {
          const w = original.get(e.name);
          return w !== undefined && w.dtype === e.dtype && w.shape.join() === e.shape.join();
        });
        let outcome: string;
        try {
          const reader = await openSafetensors(c.file.source(name));
          ensure(o.valid, `opened, but the oracle says the file is invalid (${o.valid ? '' : o.why})`);
          let report;
          try {
            report = inspectCheckpoint(reader, TINY_SETTINGS).report;
          } catch (e) {
            ensure(e instanceof CheckpointError && e.message.startsWith(name), `inspection threw ${(e as Error).name}: ${(e as Error).message}`);
            ensure(!sameKeys, `CheckpointError for a file with the model's keys: ${e.message}`);
            count('refused: CheckpointError (not this model)');
            return `CheckpointError: ${e.message.slice(name.length + 2, 160)}`;
          }
          const clean = keyReportClean(report, true);
          ensure(clean === sameKeys, clean ? 'clean report, but the oracle sees other keys' : `key report with problems for a file with the model's keys: ${JSON.stringify(report).slice(0, 200)}`);
          if (!clean) {
            count('refused: key report (missing / unexpected / mis-shaped / dtype)');
            return `key report: ${report.missing.length} missing, ${report.unexpected.length} unexpected, ${report.misshaped.length} mis-shaped, ${report.wrongDType.length} wrong dtype`;
          }
          // Accepted: the listing must be exactly the oracle's.
          ensure(o.valid && reader.dataStart === o.dataStart, `data starts at ${reader.dataStart}, oracle ${o.valid ? o.dataStart : '-'}`);
          for (const e of o.valid ? o.entries : []) {
            const got = reader.get(e.name);
            ensure(got.dtype === e.dtype && got.shape.join() === e.shape.join() && got.dataOffsets[0] === e.begin && got.dataOffsets[1] === e.end, `${e.name} listed as ${got.dtype} [${got.shape}] [${got.dataOffsets}], header says ${e.dtype} [${e.shape}] [${e.begin}, ${e.end}]`);
          }
          const moved = o.valid ? o.entries.filter((e) => original.get(e.name)!.begin !== e.begin) : [];
          const start = o.valid ? o.dataStart : 0;
          const flipped = o.valid ? o.entries.filter((e) => c.flips?.some((f) => f >= start + e.begin && f < start + e.end)) : [];
          const changed = [...moved, ...flipped];
          const sampled = toLoad.filter((l) => l.c.group === c.group).length;
          if (sampled < GPU_LOADS && changed.some((e) => e.dtype === 'F32')) toLoad.push({ c, name, changed, dataStart: start });
          count(changed.length === 0 ? 'accepted: same tensors as the original' : 'accepted: valid file with other bytes, listed as declared');
          outcome = changed.length === 0 ? 'accepted, same tensors' : `accepted, ${changed.length} tensors with other bytes (${changed.map((e) => e.name).join(', ').slice(0, 120)})`;
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
          ensure(e.message.startsWith(`${name}: `), `message does not start with the file's name: ${e.message}`);
          ensure(!o.valid, `SafetensorsError for a file the oracle reads as valid: ${e.message}`);
          count('refused: SafetensorsError');
          outcome = `SafetensorsError: ${e.message.slice(name.length + 2, 160)}`;
        }
        const ms = performance.now() - started;
        slowest = Math.max(slowest, ms);
        ensure(ms < CASE_MS, `took ${ms.toFixed(0)} ms`);
        return outcome;
      });
    }

    // Full loads of accepted files with other bytes: the GPU holds what the header points at.
    for (const { c, name, changed, dataStart } of toLoad) {
      await tally.check(c.group, `GPU load of ${name} (${c.what})`, async () => {
        const before = device.memory().liveBytes;
        const model = await UniControlModel.load(device, c.file.source(name), { settings: TINY_SETTINGS });
        try {
          let compared = 0;
          for (const e of changed) {
            const want = new Float32Array(c.file.read(dataStart + e.begin, e.end - e.begin).slice().buffer);
            const schedule = model.schedule[e.name as keyof typeof model.schedule];
            if (e.dtype !== 'F32' || (!schedule && !model.weights.has(e.name))) continue; // position ids: not used by the model
            const got = schedule ?? ((await model.weights.get(e.name).read()) as Float32Array);
            ensure(got.length === want.length && got.every((v, j) => Object.is(v, want[j]) || (Number.isNaN(v) && Number.isNaN(want[j]))), `${e.name} on the GPU differs from the file's bytes at its offsets`);
            compared++;
          }
          ensure(compared > 0, 'no changed tensor is one the model loads');
          count('GPU loads whose changed tensors equal the file');
          return `loaded; ${compared} changed tensors equal the file's bytes at the declared offsets`;
        } finally {
          model.dispose();
          ensure(device.memory().liveBytes === before, 'GPU memory not returned after dispose');
        }
      });
    }
    for (const [k, v] of [...outcomes].sort()) tally.figure(k, v);
    tally.figure('slowest case (header read, inspection, oracle)', `${slowest.toFixed(1)} ms`);
    expect(tally.failures()).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(1000);
    expect(toLoad.length).toBe(2 * GPU_LOADS); // swapped offsets and flipped data
  });
});
