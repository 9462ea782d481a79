import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import type { Device } from '../src/index.ts';
import { conv2dCpu } from '../src/reference/conv2d.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';
import { variantDevices } from './subgroup-device.ts';

// float32 accumulation over K = inC·kH·kW ≤ 600 terms stays well under 1e-5 of the largest output.
const F32_TOL = 1e-5;
// float16 storage: inputs rounded on both sides, the output rounded once (≤ 2^-11 of its magnitude).
const F16_TOL = 2 ** -11 + 1e-5;

type Pair = number | [number, number];
interface Case {
  x: number[];
  w: number[];
  stride?: Pair;
  padding?: Pair;
}
interface Epilogue {
  bias?: boolean;
  silu?: boolean;
  residual?: boolean;
  scale?: boolean;
}

const asPair = (v: Pair | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

const outputShape = (c: Case): number[] => {
  const [stride, padding] = [asPair(c.stride, 1), asPair(c.padding, 0)];
  return [c.x[0], c.w[0], Math.floor((c.x[2] + 2 * padding[0] - c.w[2]) / stride[0]) + 1, Math.floor((c.x[3] + 2 * padding[1] - c.w[3]) / stride[1]) + 1];
};

/**
 * Whether `variant` can run case `c` (Winograd: 3x3 kernels with stride 1 only; the explicit
 * GEMM: output images whose size is a multiple of 4).
 */
function fits(variant: string, c: Case): boolean {
  if (variant === 'winograd') return c.w[2] === 3 && c.w[3] === 3 && (c.stride ?? 1) === 1;
  if (variant === 'gemm') return (outputShape(c)[2] * outputShape(c)[3]) % 4 === 0;
  return true;
}

async function check(device: Device, variant: string, c: Case, e: Epilogue = {}, dtype: 'f32' | 'f16' = 'f32') {
  if (!fits(variant, c)) return;
  const r = rng();
  const x = randomPair(device, c.x, r, { dtype });
  const w = randomPair(device, c.w, r, { dtype, scale: 0.5 });
  const stride = asPair(c.stride, 1);
  const padding = asPair(c.padding, 0);
  const outShape = outputShape(c);
  const bias = e.bias ? randomPair(device, [c.w[0]], r, { dtype }) : undefined;
  const residual = e.residual ? randomPair(device, outShape, r, { dtype }) : undefined;
  const scale = e.scale ? randomPair(device, [c.x[0], c.x[1]], r, { dtype }) : undefined;
  const activation = e.silu ? 'silu' : 'none';
  const got = ops.conv2d(x.gpu, w.gpu, {
    bias: bias?.gpu,
    stride: c.stride,
    padding: c.padding,
    activation,
    residual: residual?.gpu,
    inputScale: scale?.gpu,
    variant,
  });
  const want = conv2dCpu(x.host, w.host, { bias: bias?.host, stride, padding, activation, residual: residual?.host, inputScale: scale?.host });
  // The explicit GEMM applies SiLU and the residual as separate passes: one f16 rounding each.
  // Winograd stores its GEMM operands U and V in f16 too: two more roundings (measured: at most
  // 1.5 roundings' worth in all, over 60 random cases of up to 320 channels).
  const roundings = variant === 'gemm' ? 1 + (e.silu ? 1 : 0) + (e.residual ? 1 : 0) : variant === 'winograd' ? 3 : 1;
  await expectClose(got, want, dtype === 'f16' ? roundings * F16_TOL : F32_TOL, `${variant} ${dtype} ${JSON.stringify(c)} ${JSON.stringify(e)}`);
  for (const t of [x.gpu, w.gpu, bias?.gpu, residual?.gpu, scale?.gpu, got]) t?.dispose();
}

const SHAPES: Case[] = [
  { x: [2, 3, 9, 13], w: [5, 3, 3, 3], padding: 1 },
  { x: [1, 1, 9, 13], w: [20, 1, 1, 1] },
  { x: [2, 20, 7, 5], w: [33, 20, 5, 5], padding: 2 },
  { x: [2, 5, 9, 13], w: [3, 5, 4, 3], stride: 2, padding: [1, 2] },
  { x: [1, 33, 1, 1], w: [17, 33, 3, 3], padding: 1 },
  { x: [2, 4, 17, 17], w: [33, 4, 3, 3], stride: 2, padding: 1 },
  { x: [1, 33, 8, 8], w: [20, 33, 1, 1] },
  { x: [2, 3, 10, 11], w: [5, 3, 3, 3], stride: [2, 1] },
  { x: [1, 3, 1, 1], w: [5, 3, 1, 1] },
  { x: [1, 20, 16, 16], w: [40, 20, 3, 3], padding: 1 },
  { x: [2, 7, 6, 9], w: [5, 7, 3, 3], padding: [0, 1] },
  { x: [1, 64, 9, 7], w: [70, 64, 3, 3], padding: 1 },
  { x: [1, 64, 15, 16], w: [65, 64, 3, 3], padding: 1 }, // enough tiles and channels for auto to pick Winograd
];

for (const { variant, label, device: getDevice } of variantDevices(ops.CONV2D_VARIANTS, ['implicit'])) {
  describe(`conv2d (${label}) matches the CPU reference`, () => {
    it('over kernel sizes, strides, paddings and channel counts that are no multiple of any tile', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      for (const c of SHAPES) await check(device, variant, c, { bias: true });
    });

    it('with every combination of bias, SiLU, residual and input scale', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      for (let bits = 0; bits < 16; bits++) {
        const e = { bias: !!(bits & 1), silu: !!(bits & 2), residual: !!(bits & 4), scale: !!(bits & 8) };
        await check(device, variant, { x: [2, 5, 9, 13], w: [7, 5, 3, 3], padding: 1 }, e);
        await check(device, variant, { x: [2, 33, 5, 3], w: [20, 33, 1, 1] }, e);
      }
    });

    it('over more tiles than one Winograd chunk holds (chunks of 32 MiB: 8192 tiles at 64 channels)', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      // 3 images x 64x65 tiles = 12480 tiles: two chunks, the second partial and across an image boundary.
      await check(device, variant, { x: [3, 64, 128, 129], w: [8, 64, 3, 3], padding: 1 }, { bias: true, residual: true, scale: true });
    });

    it('loads weight rows and 1x1 inputs 4 at a time where K and the image size allow, and element-wise elsewhere', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      const all = { bias: true, silu: true, residual: true, scale: true };
      await check(device, variant, { x: [2, 8, 6, 6], w: [20, 8, 3, 3], padding: 1 }, all); // K = 72
      await check(device, variant, { x: [3, 12, 4, 5], w: [17, 12, 1, 1] }, all); // K = 12, 20 pixels
      await check(device, variant, { x: [2, 12, 3, 3], w: [5, 12, 1, 1] }, all); // 9 pixels: element-wise input
      await check(device, variant, { x: [2, 7, 4, 4], w: [9, 7, 1, 1] }, all); // K = 7: element-wise weights
      await check(device, variant, { x: [1, 8, 8, 8], w: [4, 8, 1, 1], stride: 2 }, { bias: true }); // strided
      await check(device, variant, { x: [1, 8, 4, 4], w: [4, 8, 1, 1], padding: 1 }, { bias: true }); // padded
      await check(device, variant, { x: [2, 16, 8, 8], w: [24, 16, 1, 1] }, all, 'f16');
    });

    it('loads 3x3 input rows as vectors for outputs 4 to 32 wide, with the pixels either side from the neighbouring invocations', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      const all = { bias: true, silu: true, residual: true, scale: true };
      for (const width of [4, 8, 16, 32]) {
        await check(device, variant, { x: [2, 5, 3, width], w: [9, 5, 3, 3], padding: 1 }, all);
        await check(device, variant, { x: [2, 5, 5, 2 * width], w: [9, 5, 3, 3], padding: 1, stride: 2 }, all);
      }
      await check(device, variant, { x: [3, 4, 8, 8], w: [10, 4, 3, 3], padding: 1, stride: 2 }, all, 'f16'); // 48 pixels
      await check(device, variant, { x: [3, 4, 4, 4], w: [33, 4, 3, 3], padding: 1 }, all); // 48 pixels: the last tile half full
      await check(device, variant, { x: [1, 3, 1, 8], w: [5, 3, 3, 3], padding: 1 }); // one row: top and bottom are padding
      await check(device, variant, { x: [2, 12, 6, 8], w: [40, 12, 3, 3], padding: 1 }, all, 'f16');
      // Not on the row path: a width of 64 (a tile is half a row), 12 (does not divide 32), padding 0,
      // stride 2 on an odd width or unequal strides.
      await check(device, variant, { x: [1, 3, 6, 17], w: [5, 3, 3, 3], padding: 1, stride: 2 }, { bias: true });
      await check(device, variant, { x: [1, 3, 6, 16], w: [5, 3, 3, 3], padding: 1, stride: [1, 2] }, { bias: true });
      await check(device, variant, { x: [1, 3, 2, 64], w: [5, 3, 3, 3], padding: 1 }, { bias: true });
      await check(device, variant, { x: [1, 3, 5, 12], w: [5, 3, 3, 3], padding: 1 }, { bias: true });
      await check(device, variant, { x: [1, 3, 6, 8], w: [5, 3, 3, 3] }, { bias: true });
    });

    it('tiles 8, 16 or 32 output channels at a time by their count', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      const all = { bias: true, silu: true, residual: true, scale: true };
      // 8-channel tiles (5 channels), 16 (40: 32-channel tiles would pad to 64), 32 (below).
      await check(device, variant, { x: [2, 6, 5, 8], w: [5, 6, 3, 3], padding: 1 }, all);
      await check(device, variant, { x: [1, 6, 6, 6], w: [40, 6, 3, 3], padding: 1 }, all, 'f16');
      // 150 channels: the last 32-channel tile holds 22, so both of its halves are partly stored.
      await check(device, variant, { x: [2, 6, 5, 7], w: [150, 6, 3, 3], padding: 1 }, all);
      await check(device, variant, { x: [1, 12, 4, 4], w: [130, 12, 1, 1] }, all, 'f16');
      await check(device, variant, { x: [1, 5, 9, 9], w: [128, 5, 3, 3], stride: 2, padding: 1 }, { bias: true });
    });

    it('stores float16 and accumulates in float32', async (ctx) => {
      const device = await getDevice();
      if (!device) return ctx.skip();
      await check(device, variant, { x: [2, 20, 9, 13], w: [33, 20, 3, 3], padding: 1 }, { bias: true, silu: true, residual: true, scale: true }, 'f16');
      await check(device, variant, { x: [1, 5, 17, 17], w: [3, 5, 3, 3], stride: 2, padding: 1 }, { bias: true }, 'f16');
    });
  });
}

describe('conv2d (auto) picks a kernel by shape', () => {
  it('takes the implicit GEMM over the explicit one where it reads input rows as vectors', async (ctx) => {
    const device = await testDevice();
    if (!device) return ctx.skip();
    const r = rng();
    const w = randomPair(device, [128, 64, 3, 3], r).gpu;
    const kernels = (size: number): string[] => {
      const x = randomPair(device, [1, 64, size, size], r).gpu;
      const launched: string[] = [];
      const run = device.run;
      device.run = (launch) => {
        launched.push(launch.shader);
        run.call(device, launch);
      };
      try {
        device.scope(() => void ops.conv2d(x, w, { padding: 1, stride: 2 }));
      } finally {
        device.run = run;
        x.dispose();
      }
      return launched.filter((k) => k !== 'fill'); // the test device poisons each output with NaN first
    };
    expect(kernels(32)).toEqual(['conv2d']); // 16 x 16 outputs: input rows as vectors
    expect(kernels(36)).toEqual(['im2col', 'matmul']); // 18 x 18
    w.dispose();
  });
});

describe('conv2d rejects bad arguments, naming the op and the shapes', () => {
  it('shapes and options', async () => {
    const d = await testDevice();
    const z = (shape: number[], dtype: 'f32' | 'f16' = 'f32') => ops.zeros(d, shape, dtype);
    const x = z([2, 3, 9, 13]);
    const w = z([5, 3, 3, 3]);
    expect(() => ops.conv2d(x, z([5, 4, 3, 3]))).toThrow('conv2d: x [2, 3, 9, 13] has 3 channels but weight [5, 4, 3, 3] expects 4');
    expect(() => ops.conv2d(z([3, 9, 13]), w)).toThrow('conv2d: x must have rank 4, got [3, 9, 13]');
    expect(() => ops.conv2d(x, z([5, 3, 9]))).toThrow('conv2d: weight must have rank 4, got [5, 3, 9]');
    expect(() => ops.conv2d(z([1, 3, 2, 2]), w)).toThrow('conv2d: kernel 3x3 of weight [5, 3, 3, 3] does not fit x [1, 3, 2, 2] padded by [0, 0]');
    expect(() => ops.conv2d(x, w, { bias: z([3]) })).toThrow('conv2d: bias [3] does not match the 5 output channels of weight [5, 3, 3, 3]');
    expect(() => ops.conv2d(x, w, { residual: z([2, 5, 9, 13]) })).toThrow('conv2d: residual [2, 5, 9, 13] differs from the output shape [2, 5, 7, 11]');
    expect(() => ops.conv2d(x, w, { inputScale: z([2, 5]) })).toThrow('conv2d: inputScale [2, 5] must be [batch, inC] = [2, 3] for x [2, 3, 9, 13]');
    expect(() => ops.conv2d(x, w, { stride: 0 })).toThrow('conv2d: stride must be integers >= 1, got 0');
    expect(() => ops.conv2d(x, w, { padding: [1, -1] })).toThrow('conv2d: padding must be integers >= 0, got [1,-1]');
    expect(() => ops.conv2d(x, z([5, 3, 3, 3], 'f16'))).toThrow('conv2d: dtypes differ (f32 vs f16)');
    expect(() => ops.conv2d(x, w, { variant: 'fft' })).toThrow("conv2d: unknown variant 'fft'");
    expect(() => ops.conv2d(x, w, { stride: 2, variant: 'winograd' })).toThrow("conv2d: variant 'winograd' needs a 3x3 kernel with stride 1, got 3x3 stride [2, 2]");
  });
});
