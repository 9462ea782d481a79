import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  bytesSource,
  loadTensor,
  loadTensorSplit,
  openSafetensors,
  type ByteSource,
  type OpenOptions,
} from '../src/index.ts';
import { SEED, rng, testDevice } from './helpers.ts';
import { assemble, dataOf, headerOf, writeSafetensors, type TensorToWrite } from './safetensors-writer.ts';

// ---- independent CPU decoders (DataView and bit arithmetic, not the library's converters) ----

function decodeF32(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => dv.getFloat32(4 * i, true));
}

function halfValue(h: number): number {
  const sign = h >> 15 ? -1 : 1;
  const exp = (h >> 10) & 31;
  const frac = h & 1023;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return exp === 0 ? sign * frac * 2 ** -24 : sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function decodeF16(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 2 }, (_, i) => halfValue(dv.getUint16(2 * i, true)));
}

function bf16Value(bits: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint16(2, bits, true); // the bf16 bits are the high half of a float32 (little-endian)
  return dv.getFloat32(0, true);
}

/** float16 bits nearest to `v` by binary search over the ordered finite halves, ties to even. */
function nearestHalfBits(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00; // halfway to 2^16 and beyond: infinity
  let lo = 0;
  let hi = 0x7bff; // positive finite halves increase with their bits
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfValue(mid) <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === 0x7bff) return sign | lo;
  const below = a - halfValue(lo);
  const above = halfValue(lo + 1) - a;
  return sign | (above < below || (above === below && (lo & 1) === 1) ? lo + 1 : lo);
}

// ---- helpers ----

/** Index of the first element where `got` and `want` differ (NaN equals NaN), or -1: fast on large tensors. */
function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) return i;
  return -1;
}

const WHERE = 'bad.safetensors';

function openBytes(bytes: Uint8Array, options?: OpenOptions) {
  return openSafetensors(bytesSource(bytes, WHERE), options);
}

/** Opens `bytes`, expecting a SafetensorsError; returns its message. */
async function openError(bytes: Uint8Array, options?: OpenOptions): Promise<string> {
  try {
    await openBytes(bytes, options);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as Error).message;
  }
  throw new Error('expected a SafetensorsError');
}

/** A file from raw header text and `dataBytes` zero bytes. */
function raw(header: string, dataBytes = 0): Uint8Array {
  return assemble(header, new Uint8Array(dataBytes));
}

/** A file with one tensor `w` whose entry is `entry`, followed by `dataBytes` zero bytes. */
function oneEntry(entry: unknown, dataBytes: number): Uint8Array {
  return assemble({ w: entry }, new Uint8Array(dataBytes));
}

function sampleTensors(): TensorToWrite[] {
  return [
    { name: 'conv.weight', dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2.5, 3e-3, 0, 1e30, -7) },
    { name: 'half', dtype: 'F16', shape: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x0001) },
    { name: 'brain', dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0xc0a0) },
    { name: 'ids', dtype: 'I64', shape: [1, 4], data: BigInt64Array.of(0n, -1n, 2147483647n, -2147483648n) },
    { name: 'pi', dtype: 'F64', shape: [], data: Float64Array.of(Math.PI) },
    { name: 'none', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
    { name: 'mask', dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
  ];
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

// ---- header validation ----

describe('safetensors header: valid files', () => {
  it('lists tensors in data order with dtype, shape and byte size, plus metadata', async () => {
    const tensors = sampleTensors();
    const reader = await openBytes(writeSafetensors(tensors, { format: 'pt', note: 'ünï' }));
    expect(reader.names).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const e = reader.get(t.name);
      expect([e.dtype, e.shape, e.byteLength]).toEqual([t.dtype, t.shape, t.data.byteLength]);
      expect(await reader.read(t.name)).toEqual(bytesOf(t.data));
    }
    expect(reader.metadata).toEqual({ format: 'pt', note: 'ünï' });
  });

  it('accepts an empty header, a header padded with spaces, and no metadata', async () => {
    expect((await openBytes(raw('{}'))).tensors).toEqual([]);
    const padded = raw(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}${' '.repeat(13)}`, 4);
    const reader = await openBytes(padded);
    expect(reader.names).toEqual(['w']);
    expect(reader.metadata).toEqual({});
  });

  it('sorts the listing by data offset, not by header order', async () => {
    const file = raw(
      '{"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}',
      5,
    );
    expect((await openBytes(file)).names).toEqual(['a', 'b']);
  });

  it('reads byte ranges and chunks of one tensor', async () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => i + 0.5);
    const reader = await openBytes(writeSafetensors([{ name: 'x', dtype: 'F32', shape: [10], data }]));
    expect(await reader.read('x', { begin: 8, end: 16 })).toEqual(bytesOf(data.subarray(2, 4)));
    const chunks: { offset: number; length: number }[] = [];
    for await (const c of reader.chunks('x', { chunkBytes: 10 })) chunks.push({ offset: c.offset, length: c.bytes.length });
    // 10 bytes round down to two whole float32 elements per chunk.
    expect(chunks).toEqual([0, 8, 16, 24, 32].map((offset) => ({ offset, length: 8 })));
    await expect(reader.read('x', { begin: 0, end: 44 })).rejects.toThrow('byte range [0, 44) is outside tensor "x" (40 bytes)');
    expect(() => reader.get('y')).toThrow(`${WHERE}: no tensor named "y" (the file has 1)`);
  });
});

describe('safetensors header: malformed files each give a specific SafetensorsError', () => {
  const good = writeSafetensors(sampleTensors(), { format: 'pt' });

  it('file shorter than the 8-byte length', async () => {
    expect(await openError(good.subarray(0, 5))).toBe(`${WHERE}: file is 5 bytes, too short to hold the 8-byte header length`);
  });

  it('file truncated at every byte position', async () => {
    for (let cut = 0; cut < good.length; cut++) {
      const message = await openError(good.subarray(0, cut));
      expect(message.startsWith(`${WHERE}: `), message).toBe(true);
    }
    // Cut inside the data section: the last tensors' offsets run past the end.
    expect(await openError(good.subarray(0, good.length - 1))).toMatch(/tensor "mask": data_offsets \[\d+, \d+\] run past the end of the data section \(\d+ bytes; file \d+ bytes\)/);
  });

  it('header length 2^64 − 1', async () => {
    const file = assemble('{}', new Uint8Array(0), 2n ** 64n - 1n);
    expect(await openError(file)).toBe(
      `${WHERE}: header length 18446744073709551615 bytes runs past the end of the file (10 bytes, so at most 2 bytes of header); truncated or not a safetensors file`,
    );
  });

  it('header length beyond the file, and beyond maxHeaderBytes; nothing is read past the length first', async () => {
    expect(await openError(assemble('{}', new Uint8Array(0), 3n))).toMatch(/header length 3 bytes runs past the end of the file \(10 bytes/);
    expect(await openError(good, { maxHeaderBytes: 16 })).toMatch(/header length \d+ bytes exceeds the limit of 16 bytes \(option maxHeaderBytes\)/);
    const reads: [number, number][] = [];
    const huge = assemble('{}', new Uint8Array(0), 2n ** 40n);
    const spy: ByteSource = { size: 2 ** 50, read: async (o, l) => (reads.push([o, l]), huge.subarray(o, o + l)) };
    await expect(openSafetensors(spy)).rejects.toThrow('header length 1099511627776 bytes exceeds the limit of 104857600 bytes');
    expect(reads).toEqual([[0, 8]]);
  });

  it('header not UTF-8', async () => {
    const header = Uint8Array.of(...new TextEncoder().encode('{"w'), 0xff, ...new TextEncoder().encode('":{}}'));
    expect(await openError(assemble(header, new Uint8Array(0)))).toBe(`${WHERE}: header (9 bytes at offset 8) is not valid UTF-8`);
  });

  it('header not JSON', async () => {
    expect(await openError(raw('{"w": {"dtype": "F32",'))).toMatch(/^bad\.safetensors: header is not valid JSON \(/);
  });

  it('JSON array (or other non-object) instead of an object', async () => {
    expect(await openError(raw('[]'))).toBe(`${WHERE}: header must be a JSON object mapping tensor names to entries, got an array`);
    expect(await openError(raw('null'))).toMatch(/got null$/);
    expect(await openError(raw('42'))).toMatch(/got number 42$/);
  });

  it('entry not an object', async () => {
    expect(await openError(oneEntry([1, 2], 0))).toBe(`${WHERE}: tensor "w": entry must be an object, got an array`);
  });

  it('missing or unknown dtype', async () => {
    expect(await openError(oneEntry({ shape: [1], data_offsets: [0, 4] }, 4))).toBe(`${WHERE}: tensor "w": entry has no "dtype"`);
    expect(await openError(oneEntry({ dtype: 'F4', shape: [2], data_offsets: [0, 1] }, 1))).toMatch(
      /^bad\.safetensors: tensor "w": unknown dtype "F4" \(known: BOOL, U8, /,
    );
    expect(await openError(oneEntry({ dtype: 7, shape: [1], data_offsets: [0, 4] }, 4))).toMatch(/unknown dtype 7/);
  });

  it('bad shape: negative, fractional, non-numeric, not a list, beyond 2^53', async () => {
    for (const shape of [[-1], [1.5], ['2'], 2, null]) {
      expect(await openError(oneEntry({ dtype: 'U8', shape, data_offsets: [0, 2] }, 2))).toBe(
        `${WHERE}: tensor "w": shape ${JSON.stringify(shape)} must be a list of non-negative integers below 2^53`,
      );
    }
    const big = raw('{"w":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,0]}}');
    expect(await openError(big)).toMatch(/tensor "w": shape \[9007199254740992\] must be a list of non-negative integers below 2\^53/);
  });

  it('shape whose product overflows 2^53 does not match the byte size', async () => {
    const file = oneEntry({ dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 0] }, 0);
    expect(await openError(file)).toBe(`${WHERE}: tensor "w": shape [1073741824,1073741824,1073741824] of F32 needs 4951760157141521099596496896 bytes but data_offsets [0, 0] hold 0`);
  });

  it('bad data_offsets: wrong count, negative, beyond 2^53', async () => {
    for (const offsets of [[0], [0, 4, 8], [-4, 0], '0,4']) {
      expect(await openError(oneEntry({ dtype: 'F32', shape: [1], data_offsets: offsets }, 4))).toBe(
        `${WHERE}: tensor "w": data_offsets ${JSON.stringify(offsets)} must be two non-negative integers below 2^53`,
      );
    }
    const big = raw('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,18446744073709551615]}}', 1);
    expect(await openError(big)).toMatch(/data_offsets \[0,18446744073709552000\] must be two non-negative integers below 2\^53/);
  });

  it('data_offsets that end before they begin', async () => {
    expect(await openError(oneEntry({ dtype: 'F32', shape: [1], data_offsets: [8, 4] }, 8))).toBe(
      `${WHERE}: tensor "w": data_offsets [8, 4] end before they begin`,
    );
  });

  it('data_offsets out of range of the data section', async () => {
    const file = oneEntry({ dtype: 'F32', shape: [100], data_offsets: [0, 400] }, 360);
    expect(await openError(file)).toBe(
      `${WHERE}: tensor "w": data_offsets [0, 400] run past the end of the data section (360 bytes; file ${file.length} bytes); truncated file?`,
    );
  });

  it('shape and byte size disagree', async () => {
    expect(await openError(oneEntry({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] }, 20))).toBe(
      `${WHERE}: tensor "w": shape [2,3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20`,
    );
  });

  it('overlapping tensors', async () => {
    const header = { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } };
    expect(await openError(assemble(header, new Uint8Array(24)))).toBe(
      `${WHERE}: tensors "a" [0, 16] and "b" [8, 24] overlap in the data section`,
    );
  });

  it('a hole between tensors, and trailing bytes after the last', async () => {
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [16, 24] } };
    expect(await openError(assemble(header, new Uint8Array(24)))).toBe(
      `${WHERE}: data bytes [8, 16) belong to no tensor (before "b"); the format forbids holes`,
    );
    expect(await openError(oneEntry({ dtype: 'F32', shape: [2], data_offsets: [0, 8] }, 12))).toBe(
      `${WHERE}: the data section has 12 bytes but the tensors cover only 8; 4 trailing bytes belong to no tensor`,
    );
  });

  it('duplicate tensor names (which JSON.parse would silently merge)', async () => {
    const entry = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    expect(await openError(raw(`{"w":${entry},"w":${entry}}`, 1))).toBe(`${WHERE}: tensor name "w" appears twice in the header`);
    expect(await openError(raw(`{"a":${entry},"b":{"k":"x,\\"a"},"\\u0061":${entry}}`, 1))).toBe(
      `${WHERE}: tensor name "a" appears twice in the header`,
    );
    expect(await openError(raw('{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', 1))).toBe(
      `${WHERE}: key "dtype" appears twice in the entry of "w"`,
    );
  });

  it('metadata that is not an object of strings', async () => {
    expect(await openError(assemble({ __metadata__: { format: 'pt', epoch: 3 } }, new Uint8Array(0)))).toBe(
      `${WHERE}: "__metadata__" value of "epoch" must be a string, got number 3`,
    );
    expect(await openError(assemble({ __metadata__: ['pt'] }, new Uint8Array(0)))).toBe(
      `${WHERE}: "__metadata__" must be an object of strings, got an array`,
    );
  });
});

// ---- sources ----

describe('safetensors sources', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('file path, Blob, File and in-memory bytes give the same listing, bytes and GPU tensors', async () => {
    const device = await testDevice();
    const file = writeSafetensors(sampleTensors(), { format: 'pt' });
    const path = join(dir, 'sample.safetensors');
    await writeFile(path, file);
    const readers = [
      await openSafetensors(path),
      await openSafetensors(new Blob([file])),
      await openSafetensors(new File([file], 'named.safetensors')),
      await openSafetensors(bytesSource(file)),
    ];
    expect(readers.map((r) => r.where)).toEqual([path, 'blob', 'named.safetensors', 'buffer']);
    const [first, ...others] = readers;
    for (const other of others) {
      expect(other.tensors).toEqual(first.tensors);
      expect(other.metadata).toEqual(first.metadata);
      for (const name of first.names) {
        expect(await other.read(name)).toEqual(await first.read(name));
        const a = await loadTensor(device, first, name);
        const b = await loadTensor(device, other, name);
        expect([b.shape, b.dtype, await b.read()]).toEqual([a.shape, a.dtype, await a.read()]);
        a.dispose();
        b.dispose();
      }
    }
    for (const r of readers) await r.close();
  });

  it('a truncated file on disk fails to open; a file that shrinks after opening fails to read', async () => {
    const file = writeSafetensors(sampleTensors());
    const path = join(dir, 'short.safetensors');
    await writeFile(path, file.subarray(0, file.length - 3));
    await expect(openSafetensors(path)).rejects.toThrow(SafetensorsError);
    await writeFile(path, file);
    const reader = await openSafetensors(path);
    await truncate(path, reader.dataStart + 4);
    await expect(reader.read('conv.weight')).rejects.toThrow(
      `${path}: file ended at byte ${reader.dataStart + 4} while reading [${reader.dataStart}, ${reader.dataStart + 24}); did it shrink after opening?`,
    );
    await reader.close();
  });

  it('a source that returns fewer bytes than asked is caught', async () => {
    const file = writeSafetensors(sampleTensors());
    const { dataStart } = await openBytes(file);
    const lying: ByteSource = { size: file.length, name: 'lying', read: async (o, l) => file.subarray(o, o + (o >= dataStart ? l - 1 : l)) };
    const reader = await openSafetensors(lying);
    await expect(reader.read('conv.weight')).rejects.toThrow(
      `lying: reading bytes [${dataStart}, ${dataStart + 24}) returned 23; the file is truncated or changed after opening`,
    );
  });
});

// ---- loading to the GPU ----

describe('loadTensor converts to GPU storage exactly', () => {
  const one = (t: TensorToWrite) => openBytes(writeSafetensors([t]));

  it('F32 → f32 is bit-exact, in one read or in chunks of any size', async () => {
    const device = await testDevice();
    const r = rng();
    for (const shape of [[1], [7], [17, 33], [2, 3, 5]]) {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r.normal() * 10);
      const reader = await one({ name: 'x', dtype: 'F32', shape, data });
      for (const chunkBytes of [undefined, 4, 12, 1000]) {
        const t = await loadTensor(device, reader, 'x', { chunkBytes });
        expect([t.shape, t.dtype], `seed ${SEED}`).toEqual([shape, 'f32']);
        expect(await t.read()).toEqual(data);
        t.dispose();
      }
    }
  });

  it('F16 → f16 (the default with shader-f16) keeps the bits; → f32 decodes exactly', async () => {
    const device = await testDevice();
    const r = rng();
    const bits = Uint16Array.from({ length: 77 }, () => {
      const b = Math.floor(r.uniform() * 65536);
      return ((b >> 10) & 31) === 31 ? b & 0xbfff : b; // finite values only
    });
    const reader = await one({ name: 'h', dtype: 'F16', shape: [7, 11], data: bits });
    expect(device.hasF16).toBe(true); // lavapipe has shader-f16; the default below relies on it
    const h = await loadTensor(device, reader, 'h', { chunkBytes: 6 });
    expect(h.dtype).toBe('f16');
    expect(new Uint16Array(await h.readRaw())).toEqual(bits);
    const f = await loadTensor(device, reader, 'h', { dtype: 'f32' });
    expect(Array.from(await f.read())).toEqual(Array.from(bits, halfValue));
    h.dispose();
    f.dispose();
  });

  it('BF16 → f32 (the default) decodes exactly; → f16 rounds to the nearest half', async () => {
    const device = await testDevice();
    const r = rng();
    const bits = Uint16Array.from({ length: 65 }, () => {
      const b = Math.floor(r.uniform() * 65536);
      return ((b >> 7) & 255) === 255 ? b & 0xbfff : b;
    });
    bits.set([0x3f80, 0xc0a0, 0x0001, 0x8000, 0x477f, 0x4780]); // 1, -5, tiny subnormal, -0, 65280, 65536
    const reader = await one({ name: 'b', dtype: 'BF16', shape: [65], data: bits });
    const f = await loadTensor(device, reader, 'b');
    expect(f.dtype).toBe('f32');
    expect(Array.from(await f.read())).toEqual(Array.from(bits, bf16Value));
    const h = await loadTensor(device, reader, 'b', { dtype: 'f16' });
    expect(Array.from(new Uint16Array(await h.readRaw()))).toEqual(Array.from(bits, (b) => nearestHalfBits(bf16Value(b))));
    f.dispose();
    h.dispose();
  });

  it('F32 → f16 rounds to nearest, ties to even, overflows to infinity', async () => {
    const device = await testDevice();
    const r = rng();
    const cases = [1 + 2 ** -11, 1 + 3 * 2 ** -11, -2.5, 65519, 65520, -1e6, 2 ** -25, 3 * 2 ** -25, 1e-8, -0, 6.1e-5];
    const want = [0x3c00, 0x3c02, 0xc100, 0x7bff, 0x7c00, 0xfc00, 0x0000, 0x0002, 0x0000, 0x8000, 0x03ff];
    expect(cases.map(nearestHalfBits)).toEqual(want); // the test's own reference agrees with hand-worked bits
    const random = Array.from({ length: 200 }, (_, i) => Math.fround(r.normal() * 10 ** ((i % 13) - 8)));
    const values = Float32Array.from([...cases, ...random]);
    const reader = await one({ name: 'x', dtype: 'F32', shape: [values.length], data: values });
    const t = await loadTensor(device, reader, 'x', { dtype: 'f16' });
    expect(Array.from(new Uint16Array(await t.readRaw())), `seed ${SEED}`).toEqual(Array.from(values, nearestHalfBits));
    t.dispose();
  });

  it('F64 → f32 and f16 round once from the exact value', async () => {
    const device = await testDevice();
    // Just above a float16 tie: rounding to float32 first would land on the tie and round down to 1.
    const values = Float64Array.of(1 + 2 ** -11 + 2 ** -40, Math.PI, -1e-300, 1e300, 70000.5, 2 ** -14 - 2 ** -30);
    const reader = await one({ name: 'd', dtype: 'F64', shape: [2, 3], data: values });
    const f = await loadTensor(device, reader, 'd');
    expect([f.dtype, Array.from(await f.read())]).toEqual(['f32', Array.from(values, Math.fround)]);
    const h = await loadTensor(device, reader, 'd', { dtype: 'f16' });
    const bits = Array.from(new Uint16Array(await h.readRaw()));
    expect(bits[0]).toBe(0x3c01);
    expect(bits).toEqual(Array.from(values, nearestHalfBits));
    f.dispose();
    h.dispose();
  });

  it('I64 → i32 when every value fits; a value that does not is named with its element', async () => {
    const device = await testDevice();
    const ids = BigInt64Array.of(0n, -1n, 2147483647n, -2147483648n, 49406n, 49407n);
    const reader = await one({ name: 'ids', dtype: 'I64', shape: [2, 3], data: ids });
    const t = await loadTensor(device, reader, 'ids', { dtype: 'f16' }); // the float option leaves integers alone
    expect([t.dtype, Array.from(await t.read())]).toEqual(['i32', Array.from(ids, Number)]);
    t.dispose();
    for (const bad of [2147483648n, -2147483649n, 2n ** 62n]) {
      const big = await one({ name: 'pos', dtype: 'I64', shape: [5], data: BigInt64Array.of(1n, 2n, 3n, bad, 5n) });
      for (const chunkBytes of [undefined, 8, 16]) {
        await expect(loadTensor(device, big, 'pos', { chunkBytes })).rejects.toThrow(
          `${WHERE}: tensor "pos": I64 value ${bad} at element 3 does not fit in int32 (the GPU integer type)`,
        );
      }
    }
  });

  it('I32, I16, I8, U16, U8 and BOOL widen to i32', async () => {
    const device = await testDevice();
    const cases: [string, ArrayBufferView, number[]][] = [
      ['I32', Int32Array.of(-2147483648, 5, 2147483647), [-2147483648, 5, 2147483647]],
      ['I16', Int16Array.of(-32768, 7, 32767), [-32768, 7, 32767]],
      ['I8', Int8Array.of(-128, 0, 127), [-128, 0, 127]],
      ['U16', Uint16Array.of(0, 1, 65535), [0, 1, 65535]],
      ['U8', Uint8Array.of(0, 200, 255), [0, 200, 255]],
      ['BOOL', Uint8Array.of(1, 0, 1), [1, 0, 1]],
    ];
    for (const [dtype, data, want] of cases) {
      const t = await loadTensor(device, await one({ name: 'i', dtype, shape: [3], data }), 'i');
      expect([dtype, t.dtype, Array.from(await t.read())]).toEqual([dtype, 'i32', want]);
      t.dispose();
    }
  });

  it('refuses dtypes it cannot load', async () => {
    const device = await testDevice();
    const reader = await one({ name: 'u', dtype: 'U32', shape: [1], data: Uint32Array.of(1) });
    await expect(loadTensor(device, reader, 'u')).rejects.toThrow(/^bad\.safetensors: tensor "u": dtype U32 cannot be loaded \(floats: F64, F32, F16, BF16; integers as int32: I64, /);
  });

  it('scalars and empty tensors load', async () => {
    const device = await testDevice();
    const reader = await openBytes(writeSafetensors(sampleTensors()));
    const pi = await loadTensor(device, reader, 'pi');
    expect([pi.shape, Array.from(await pi.read())]).toEqual([[], [Math.fround(Math.PI)]]);
    const none = await loadTensor(device, reader, 'none');
    expect([none.shape, none.size]).toEqual([[0, 5], 0]);
    pi.dispose();
    none.dispose();
  });
});

describe('tensors over the binding limit', () => {
  it('loadTensor refuses one over the limit, naming it, its size and the limit', async () => {
    const device = await testDevice();
    const reader = await openBytes(writeSafetensors([{ name: 'emb', dtype: 'F32', shape: [10, 3], data: new Float32Array(30) }]));
    await expect(loadTensor(device, reader, 'emb', { maxBytes: 100 })).rejects.toThrow(
      `loadTensor: ${WHERE}: tensor "emb" [10, 3] is 120 bytes as f32, over the limit of 100 bytes per GPU binding; load it in parts with loadTensorSplit()`,
    );
    // The default limit is the device's own.
    expect(device.limits.maxStorageBufferBindingSize).toBeLessThan(49408 * 768 * 4);
  });

  it('loadTensorSplit splits along the first axis into near-equal parts within the limit', async () => {
    const device = await testDevice();
    const r = rng();
    for (const [rows, cols, maxBytes, dtype, wantRows] of [
      [10, 3, 100, 'f32', [5, 5]], // 8 rows fit in 100 bytes: two parts, balanced
      [17, 5, 40, 'f32', [2, 2, 2, 2, 2, 2, 2, 2, 1]],
      [7, 4, 1000, 'f32', [7]],
      [9, 3, 24, 'f16', [3, 3, 3]], // 4 rows of 6 bytes fit: three parts
    ] as [number, number, number, 'f32' | 'f16', number[]][]) {
      const data = Float32Array.from({ length: rows * cols }, () => r.normal());
      const reader = await openBytes(writeSafetensors([{ name: 'emb', dtype: 'F32', shape: [rows, cols], data }]));
      const parts = await loadTensorSplit(device, reader, 'emb', { maxBytes, dtype });
      expect(parts.map((p) => p.shape)).toEqual(wantRows.map((n) => [n, cols]));
      const got = new Float32Array(rows * cols);
      let at = 0;
      for (const p of parts) {
        expect(p.bytes).toBeLessThanOrEqual(maxBytes);
        got.set(await p.read(), at);
        at += p.size;
        p.dispose();
      }
      expect(Array.from(got)).toEqual(Array.from(data, (v) => (dtype === 'f16' ? halfValue(nearestHalfBits(v)) : v)));
    }
  });

  it('loadTensorSplit refuses a tensor whose single row is over the limit', async () => {
    const device = await testDevice();
    const reader = await openBytes(writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 30], data: new Float32Array(60) }]));
    await expect(loadTensorSplit(device, reader, 'w', { maxBytes: 100 })).rejects.toThrow(
      `loadTensorSplit: one row of ${WHERE}: tensor "w" [2, 30] is 120 bytes as f32, over the limit of 100 bytes per GPU binding`,
    );
  });
});

// ---- the shared UniControl fixtures ----

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/tiny/', import.meta.url));
const HAVE_FIXTURES = existsSync(FIXTURES);

/** In CI the fixtures must be there: a missing folder fails these tests instead of skipping them. */
function fixture(name: string): string {
  if (!HAVE_FIXTURES) throw new Error(`fixtures folder ${FIXTURES} is missing (CI is set, so this fails rather than skips)`);
  return join(FIXTURES, name);
}

/** Reads tensor `name` straight from the file: our own header parse and positioned read. */
async function directRead(path: string, name: string): Promise<{ dtype: string; shape: number[]; bytes: Uint8Array }> {
  const fh = await open(path, 'r');
  try {
    const prefix = new Uint8Array(8);
    await fh.read(prefix, 0, 8, 0);
    const n = Number(new DataView(prefix.buffer).getBigUint64(0, true));
    const header = new Uint8Array(n);
    await fh.read(header, 0, n, 8);
    const entry = JSON.parse(new TextDecoder().decode(header))[name];
    const [begin, end] = entry.data_offsets;
    const bytes = new Uint8Array(end - begin);
    await fh.read(bytes, 0, bytes.length, 8 + n + begin);
    return { dtype: entry.dtype, shape: entry.shape, bytes };
  } finally {
    await fh.close();
  }
}

describe.skipIf(!HAVE_FIXTURES && !process.env.CI)('tiny UniControl fixture weights', () => {
  const POSITION_IDS = 'cond_stage_model.transformer.text_model.embeddings.position_ids';

  it('model.safetensors: lists and validates 764 tensors', async () => {
    const reader = await openSafetensors(fixture('model.safetensors'));
    expect(reader.tensors.length).toBe(764);
    expect(reader.metadata.size).toBe('tiny');
    expect(reader.get(POSITION_IDS)).toMatchObject({ dtype: 'I64', shape: [1, 77] });
    expect(reader.tensors.filter((t) => t.dtype !== 'F32').map((t) => t.name)).toEqual([POSITION_IDS]);
    await reader.close();
  });

  it('model.safetensors: tensors loaded to the GPU equal a direct CPU decode', async () => {
    const device = await testDevice();
    const path = fixture('model.safetensors');
    const reader = await openSafetensors(path);
    const biggest = [...reader.tensors].sort((a, b) => b.byteLength - a.byteLength)[0].name;
    const conv = reader.tensors.find((t) => t.shape.length === 4)!.name;
    for (const name of [reader.tensors[0].name, biggest, conv, POSITION_IDS]) {
      const direct = await directRead(path, name);
      const t = await loadTensor(device, reader, name, { chunkBytes: 4096 });
      expect(t.shape).toEqual(direct.shape);
      const want =
        direct.dtype === 'I64'
          ? Array.from(new BigInt64Array(direct.bytes.slice().buffer), Number)
          : decodeF32(direct.bytes);
      expect(firstMismatch(await t.read(), want), name).toBe(-1);
      t.dispose();
    }
    const ids = await loadTensor(device, reader, POSITION_IDS);
    expect([ids.dtype, Array.from(await ids.read())]).toEqual(['i32', Array.from({ length: 77 }, (_, i) => i)]);
    ids.dispose();
    await reader.close();
  });

  it('model.f16.safetensors: same tensors; every one loads, F16 as f16 by default and as f32 on request', async () => {
    const device = await testDevice();
    const path = fixture('model.f16.safetensors');
    const reader = await openSafetensors(path);
    const full = await openSafetensors(fixture('model.safetensors'));
    expect(reader.names.slice().sort()).toEqual(full.names.slice().sort());
    for (const entry of reader.tensors) {
      expect(entry.shape).toEqual(full.get(entry.name).shape);
      const t = await loadTensor(device, reader, entry.name);
      expect(t.dtype).toBe(({ F16: 'f16', F32: 'f32', I64: 'i32' } as Record<string, string>)[entry.dtype]);
      t.dispose();
    }
    const halves = reader.tensors.filter((t) => t.dtype === 'F16');
    for (const entry of [halves[0], halves[halves.length - 1], halves.find((t) => t.shape.length === 4)!]) {
      const direct = await directRead(path, entry.name);
      const t = await loadTensor(device, reader, entry.name, { dtype: 'f32' });
      const want = decodeF16(direct.bytes);
      expect(firstMismatch(await t.read(), want), entry.name).toBe(-1);
      // The float16 file is the float32 file rounded to nearest.
      const f32 = decodeF32((await directRead(fixture('model.safetensors'), entry.name)).bytes);
      expect(firstMismatch(want, f32.map((v) => halfValue(nearestHalfBits(v)))), entry.name).toBe(-1);
      t.dispose();
    }
    await reader.close();
    await full.close();
  });
});
