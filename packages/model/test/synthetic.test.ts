// The synthetic-checkpoint writer (scripts/make-synthetic-checkpoint.ts) at small scale: the file
// parses, keeps the key list's names/shapes/dtypes in order, holds the real schedule, and its random
// values have the intended statistics and depend only on the seed.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors, toHalf, type SafetensorsReader } from '../../core/src/index.ts';
import {
  SCHEDULE_NAMES,
  isUpToDate,
  planCheckpoint,
  writeSyntheticCheckpoint,
  type KeySpec,
} from '../../../scripts/make-synthetic-checkpoint.ts';

const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const FIXTURES = `${SHARED}fixtures/tiny/`;
const HAVE_SHARED = existsSync(`${FIXTURES}model.safetensors`) && existsSync(`${FIXTURES}model.f16.safetensors`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synthetic-ckpt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withReader<T>(path: string, fn: (r: SafetensorsReader) => Promise<T>): Promise<T> {
  const reader = await openSafetensors(path);
  try {
    return await fn(reader);
  } finally {
    await reader.close();
  }
}

async function readF32(r: SafetensorsReader, name: string): Promise<Float32Array> {
  const bytes = (await r.read(name)).slice(); // copy: the view must be 4-byte aligned
  return new Float32Array(bytes.buffer);
}

function moments(v: Float32Array): { mean: number; std: number; within1: number } {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  const std = Math.sqrt(ss / v.length);
  let in1 = 0;
  for (const x of v) if (Math.abs(x - mean) < std) in1++;
  return { mean, std, within1: in1 / v.length };
}

// ---- hand-written keys: statistics, chunking, determinism (no shared files needed) ----

const CONV = 'model.diffusion_model.input_blocks.4.0.in_layers.2.weight'; // 3.7 M elements: several chunks
const KEYS: KeySpec[] = [
  { name: 'betas', shape: [1000], dtype: 'float32' },
  { name: 'cond_stage_model.transformer.text_model.embeddings.position_ids', shape: [1, 77], dtype: 'int64' },
  { name: 'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', shape: [500, 64], dtype: 'float32' },
  { name: CONV, shape: [640, 640, 3, 3], dtype: 'float32' },
  { name: 'model.diffusion_model.input_blocks.4.0.in_layers.2.bias', shape: [4096], dtype: 'float32' },
  { name: 'model.diffusion_model.input_blocks.4.0.in_layers.0.weight', shape: [4096], dtype: 'float32' },
  { name: 'model.diffusion_model.input_blocks.4.0.in_layers.0.bias', shape: [4096], dtype: 'float32' },
  { name: 'model.diffusion_model.time_embed.0.weight', shape: [1280, 320], dtype: 'float32' },
];

describe('synthetic checkpoint writer', () => {
  it('streams a file that parses, with the keys in order and an 8-byte-aligned data section', async () => {
    const out = join(dir, 'a.safetensors');
    let last = 0;
    const plan = await writeSyntheticCheckpoint({ keys: KEYS, out, seed: 7, source: 'test', onProgress: (w) => (last = w) });
    expect((await stat(out)).size).toBe(plan.totalBytes);
    expect(last).toBe(plan.totalBytes);
    expect(existsSync(`${out}.partial`)).toBe(false);
    await withReader(out, async (r) => {
      expect(r.dataStart % 8).toBe(0);
      expect(r.tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual(
        KEYS.map((k) => [k.name, k.shape, k.dtype === 'int64' ? 'I64' : 'F32']),
      );
      expect(r.metadata.seed).toBe('7');
      expect(r.metadata.source_keys).toBe('test');
      expect(r.metadata.note).toMatch(/random/i);
      const ids = new BigInt64Array((await r.read(KEYS[1].name)).slice().buffer);
      expect(Array.from(ids, Number)).toEqual(Array.from({ length: 77 }, (_, i) => i));
    });
    expect(await isUpToDate(out, plan)).toBe(true);
    expect(await isUpToDate(out, planCheckpoint({ keys: KEYS, seed: 8, source: 'test' }))).toBe(false);
  });

  it('draws conv/linear weights N(0, 1/fan_in), biases, norm parameters and embeddings as specified', async () => {
    const out = join(dir, 'a.safetensors');
    const expected: [string, number, number][] = [
      [CONV, 0, 1 / Math.sqrt(640 * 9)],
      ['model.diffusion_model.time_embed.0.weight', 0, 1 / Math.sqrt(320)],
      [KEYS[2].name, 0, 0.3],
      [KEYS[4].name, 0, 0.05], // conv bias
      [KEYS[5].name, 1, 0.1], // GroupNorm weight (in_layers.0)
      [KEYS[6].name, 0, 0.1], // GroupNorm bias
    ];
    await withReader(out, async (r) => {
      for (const [name, mean, std] of expected) {
        const v = await readF32(r, name);
        const m = moments(v);
        const se = std / Math.sqrt(v.length);
        expect(Math.abs(m.mean - mean), name).toBeLessThan(5 * se);
        expect(Math.abs(m.std / std - 1), name).toBeLessThan(5 / Math.sqrt(2 * v.length) + 1e-4);
        if (v.length > 1e6) expect(Math.abs(m.within1 - 0.6827), name).toBeLessThan(0.002); // Gaussian, not uniform
      }
    });
  });

  it('gives identical bytes for the same seed and different values for another', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((s) => join(dir, `${s}.safetensors`));
    await writeSyntheticCheckpoint({ keys: KEYS, out: b, seed: 7, source: 'test' });
    await writeSyntheticCheckpoint({ keys: KEYS, out: c, seed: 8, source: 'test' });
    const [ba, bb, bc] = await Promise.all([a, b, c].map((p) => readFile(p)));
    expect(ba.equals(bb)).toBe(true);
    expect(bc.length).toBe(ba.length);
    const conv = await withReader(a, (r) => Promise.all([readF32(r, CONV), withReader(c, (rc) => readF32(rc, CONV))]));
    expect(conv[0][0]).not.toBe(conv[1][0]);
  });

  it('rejects keys it has no rule for', () => {
    const plan = (keys: KeySpec[]) => () => planCheckpoint({ keys });
    expect(plan([{ name: 'model.step', shape: [1], dtype: 'int64' }])).toThrow(/position_ids/);
    expect(plan([{ name: 'model.scale.weight', shape: [], dtype: 'float32' }])).toThrow(/no init rule/);
    expect(plan([{ name: 'betas', shape: [10, 100], dtype: 'float32' }])).toThrow(/1-D/);
    expect(() => planCheckpoint({ keys: KEYS, seed: -1 })).toThrow(/seed/);
  });
});

// ---- the tiny fixture's own keys: layout and schedule against the oracle's file ----

describe.skipIf(!HAVE_SHARED && !process.env.CI)('synthetic checkpoint from the tiny fixture keys', () => {
  let keys: KeySpec[];
  const f32 = () => join(dir, 'tiny.safetensors');
  const f16 = () => join(dir, 'tiny.f16.safetensors');

  beforeAll(async () => {
    if (!HAVE_SHARED) throw new Error(`${FIXTURES}model.safetensors is missing (CI is set, so this fails rather than skips)`);
    keys = await withReader(`${FIXTURES}model.safetensors`, async (r) => r.tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })));
    await writeSyntheticCheckpoint({ keys, out: f32(), seed: 3, source: 'tiny' });
    await writeSyntheticCheckpoint({ keys, out: f16(), seed: 3, dtype: 'f16', source: 'tiny' });
  });

  it('has every key, shape and dtype of the fixture, in order', async () => {
    await withReader(f32(), async (r) => {
      expect(r.tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual(keys.map((k) => [k.name, k.shape, k.dtype]));
    });
  });

  it('holds the real schedule buffers (to float32 rounding) and position ids', async () => {
    await withReader(`${FIXTURES}model.safetensors`, (ref) =>
      withReader(f32(), async (r) => {
        for (const name of SCHEDULE_NAMES) {
          const [want, got] = [await readF32(ref, name), await readF32(r, name)];
          for (let i = 0; i < want.length; i++) {
            expect(Math.abs(got[i] - want[i]), `${name}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]));
          }
        }
        const ids = 'cond_stage_model.transformer.text_model.embeddings.position_ids';
        expect(Buffer.from(await r.read(ids)).equals(Buffer.from(await ref.read(ids)))).toBe(true);
      }),
    );
  });

  it('writes float16 like model.f16.safetensors (schedule float32) with the float32 values rounded', async () => {
    await withReader(`${FIXTURES}model.f16.safetensors`, (ref) =>
      withReader(f16(), async (r) => {
        expect(r.tensors.map((t) => [t.name, t.dtype])).toEqual(keys.map((k) => [k.name, ref.get(k.name).dtype]));
        expect(r.metadata.dtype).toMatch(/float16/);
      }),
    );
    const name = 'model.diffusion_model.input_blocks.1.0.in_layers.2.weight';
    const want = toHalf(await withReader(f32(), (r) => readF32(r, name)));
    const bits = await withReader(f16(), async (r) => new Uint16Array((await r.read(name)).slice().buffer));
    expect(Array.from(bits)).toEqual(Array.from(want));
  });
});
