import { describe, expect, it } from 'vitest';
import { cast, FLAG_CLEAR, flagNonFinite, fromHalf, mulScalar, nonFiniteFlag, tensor, toHalf, zeros, type Device, type Tensor } from '../src/index.ts';
import { rng, SEED, testDevice } from './helpers.ts';

// Sizes around the kernel's 64 invocations × 4 words per workgroup, and a large tensor.
const SIZES = [1, 2, 3, 63, 64, 255, 256, 257, 1001, 65_537, 1_000_003];

/** Bit patterns of the values the guard must catch, and finite ones it must let through. */
const F32_BAD = { NaN: 0x7fc00000, 'negative NaN': 0xffffffff, 'signalling NaN': 0x7f800001, '+Inf': 0x7f800000, '-Inf': 0xff800000 };
const F32_EDGE = [0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000000, 0x00800000]; // ±max, subnormal, −0, min normal
const F16_BAD = { NaN: 0x7e00, 'negative NaN': 0xfe01, 'signalling NaN': 0x7c01, '+Inf': 0x7c00, '-Inf': 0xfc00 };
const F16_EDGE = [0x7bff, 0xfbff, 0x0001, 0x8000, 0x03ff]; // ±65504, subnormals, −0

type Case = { label: string; x: Tensor; bad: number; tag: number; flag: Tensor };

/** Finite random bits of `dtype` (with the edge values sprinkled in), n elements. */
function finiteBits(dtype: 'f32' | 'f16', n: number, r: ReturnType<typeof rng>): Uint32Array | Uint16Array {
  const edge = dtype === 'f32' ? F32_EDGE : F16_EDGE;
  const values = Float32Array.from({ length: n }, () => r.normal() * 100);
  const bits = dtype === 'f32' ? new Uint32Array(values.buffer) : toHalf(values);
  for (let i = 0; i < n; i += 97) bits[i] = edge[(i / 97) % edge.length];
  return bits;
}

/** Uploads bits as a tensor of `dtype` and counts its NaN/Inf on the CPU. */
function upload(device: Device, dtype: 'f32' | 'f16', bits: Uint32Array | Uint16Array): { x: Tensor; bad: number } {
  const values = dtype === 'f32' ? new Float32Array(bits.buffer, bits.byteOffset, bits.length) : fromHalf(bits as Uint16Array);
  let bad = 0;
  for (const v of values) if (!Number.isFinite(v)) bad++;
  const x = dtype === 'f32' ? tensor(device, values, [bits.length]) : tensor(device, bits as Uint16Array, [bits.length], { dtype: 'f16' });
  return { x, bad };
}

/** Reads every case's flag: the tag when the CPU counted a bad value, clear otherwise. */
async function expectFlags(cases: Case[]): Promise<void> {
  for (const c of cases) {
    const got = (await c.flag.read())[0];
    expect(got, `${c.label}: ${c.bad} bad values (seed ${SEED})`).toBe(c.bad > 0 ? c.tag : FLAG_CLEAR);
    c.x.dispose();
    c.flag.dispose();
  }
}

describe('flagNonFinite matches a CPU count of NaN and ±Inf', () => {
  for (const dtype of ['f32', 'f16'] as const) {
    it(`${dtype}: every bad value at the first, middle, last and a random element, and finite edge values`, async () => {
      const device = await testDevice();
      const r = rng();
      const badValues = Object.entries(dtype === 'f32' ? F32_BAD : F16_BAD);
      for (const n of SIZES) {
        const cases: Case[] = [];
        const add = (label: string, bits: Uint32Array | Uint16Array): void => {
          const { x, bad } = upload(device, dtype, bits);
          const flag = nonFiniteFlag(device);
          const tag = cases.length;
          flagNonFinite(x, flag, tag);
          cases.push({ label: `${dtype} [${n}] ${label}`, x, bad, tag, flag });
        };
        const clean = finiteBits(dtype, n, r);
        add('finite', clean);
        const positions = { first: 0, middle: n >> 1, last: n - 1, random: Math.floor(r.uniform() * n) };
        for (const [where, i] of Object.entries(positions)) {
          for (const [name, value] of badValues) {
            const bits = clean.slice();
            bits[i] = value;
            add(`${name} at ${where} (${i})`, bits);
          }
        }
        await expectFlags(cases);
      }
    });
  }

  it('values the GPU computed: NaN from arithmetic, Inf from f32 and f16 overflow', async () => {
    const device = await testDevice();
    const x = tensor(device, Float32Array.from({ length: 1000 }, (_, i) => i - 500), [10, 100]);
    const made: [string, Tensor][] = [
      ['x · NaN (f32)', mulScalar(x, Number.NaN)],
      ['x · 1e36 (f32 overflow beyond |x| > 340)', mulScalar(x, 1e36)],
      ['x · 200 cast to f16 (overflow beyond |x| > 327)', cast(mulScalar(x, 200), 'f16')],
      ['x · 100 cast to f16 (finite)', cast(mulScalar(x, 100), 'f16')],
    ];
    const cases: Case[] = [];
    for (const [label, y] of made) {
      let bad = 0;
      for (const v of await y.read()) if (!Number.isFinite(v)) bad++;
      cases.push({ label, x: y, bad, tag: cases.length, flag: nonFiniteFlag(device) });
    }
    expect(cases.map((c) => c.bad > 0)).toEqual([true, true, true, false]);
    for (const c of cases) flagNonFinite(c.x, c.flag, c.tag);
    await expectFlags(cases);
    x.dispose();
  });

  it('a tensor over 2^16 workgroups (a two-dimensional grid): the last element is checked', async () => {
    const device = await testDevice();
    const n = 65_535 * 256 + 1000; // words beyond what one grid row of workgroups covers
    const clean = zeros(device, [n]);
    const bits = new Float32Array(n);
    bits[n - 1] = Number.NEGATIVE_INFINITY;
    const cases: Case[] = [
      { label: 'zeros', x: clean, bad: 0, tag: 0, flag: nonFiniteFlag(device) },
      { label: '-Inf last', x: tensor(device, bits, [n]), bad: 1, tag: 1, flag: nonFiniteFlag(device) },
    ];
    for (const c of cases) flagNonFinite(c.x, c.flag, c.tag);
    await expectFlags(cases);
  });
});

describe('flagNonFinite reads only the tensor, not the rest of its buffer', () => {
  it('an odd f16 tensor whose padding half holds NaN bits stays finite', async () => {
    const device = await testDevice(); // poisons outputs: cast's output words start as NaN
    const cases: Case[] = [1, 3, 257, 1001].map((n, tag) => ({
      label: `cast to f16 [${n}]`,
      x: cast(tensor(device, new Float32Array(n).fill(1.5), [n]), 'f16'),
      bad: 0,
      tag,
      flag: nonFiniteFlag(device),
    }));
    for (const c of cases) flagNonFinite(c.x, c.flag, c.tag);
    await expectFlags(cases);
  });

  it('a pooled buffer whose tail past the tensor holds NaN stays finite', async () => {
    const device = await testDevice();
    for (const dtype of ['f32', 'f16'] as const) {
      // 300 and 290 elements share a pool size class: the second tensor reuses the NaN buffer.
      const nan = tensor(device, new Float32Array(300).fill(Number.NaN), [300], { dtype });
      await nan.read();
      nan.dispose();
      const x = tensor(device, new Float32Array(290).fill(2), [290], { dtype });
      const flag = nonFiniteFlag(device);
      flagNonFinite(x, flag, 0);
      await expectFlags([{ label: `${dtype} [290] in a reused buffer`, x, bad: 0, tag: 0, flag }]);
    }
  });
});

describe('the flag keeps the smallest tag', () => {
  it('over many launches into one flag, in any order, negative tags included', async () => {
    const device = await testDevice();
    const good = tensor(device, new Float32Array(500).fill(1), [500]);
    const bad = tensor(device, new Float32Array(500).fill(1).fill(Number.NaN, 250, 251), [500]);
    const flag = nonFiniteFlag(device);
    flagNonFinite(good, flag, 0);
    expect((await flag.read())[0]).toBe(FLAG_CLEAR);
    for (const [x, tag] of [[good, 1], [bad, 5], [bad, 3], [bad, 7], [good, 2]] as const) flagNonFinite(x, flag, tag);
    expect((await flag.read())[0]).toBe(3);
    flagNonFinite(bad, flag, 4);
    expect((await flag.read())[0]).toBe(3);
    flagNonFinite(bad, flag, -2);
    expect((await flag.read())[0]).toBe(-2);
    for (const t of [good, bad, flag]) t.dispose();
  });

  it('an empty tensor leaves the flag; bad arguments are rejected, naming the op', async () => {
    const device = await testDevice();
    const flag = nonFiniteFlag(device);
    flagNonFinite(zeros(device, [3, 0]), flag, 0);
    expect((await flag.read())[0]).toBe(FLAG_CLEAR);
    const x = zeros(device, [4]);
    expect(() => flagNonFinite(zeros(device, [4], 'i32'), flag, 0)).toThrow('flagNonFinite: input 0 has dtype i32');
    expect(() => flagNonFinite(x, zeros(device, [1]), 0)).toThrow('flagNonFinite: flag must be an i32 tensor of one element, got [1] f32');
    expect(() => flagNonFinite(x, zeros(device, [2], 'i32'), 0)).toThrow('got [2] i32');
    expect(() => flagNonFinite(x, flag, FLAG_CLEAR)).toThrow('flagNonFinite: tag 2147483647 must be an integer');
    expect(() => flagNonFinite(x, flag, 1.5)).toThrow('flagNonFinite: tag 1.5');
  });
});
