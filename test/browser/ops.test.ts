// A selection of the core op tests' cases, run by the browser bundle in headless Chromium (on
// its WebGPU adapter) and checked in Node against the same CPU references as the Node op tests.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionCpu, softmaxCpu } from '../../packages/core/src/reference/attention.ts';
import { conv2dCpu } from '../../packages/core/src/reference/conv2d.ts';
import { binaryCpu, unaryCpu } from '../../packages/core/src/reference/elementwise.ts';
import type { HostTensor } from '../../packages/core/src/reference/host.ts';
import { encodePng } from '@unicontrol/unicontrol';
import { concatCpu, permuteCpu, upsampleNearest2xCpu } from '../../packages/core/src/reference/layout.ts';
import { matmulCpu } from '../../packages/core/src/reference/matmul.ts';
import { groupNormCpu, layerNormCpu } from '../../packages/core/src/reference/norm.ts';
import { exposeLib, HAVE_CHROMIUM, openSession, type Lib, type Session } from './harness.ts';

type Wire = { shape: number[]; data: number[] };
interface Case {
  name: string;
  inputs: Record<string, HostTensor>;
  want: (i: Record<string, HostTensor>) => HostTensor;
}

const seed = Number(process.env.TEST_SEED ?? Date.now() % 1e9);
let state = seed;
function random(shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return { shape, data };
}

// Sizes that are not multiples of any tile, as in the Node op tests.
const CASES: Case[] = [
  { name: 'matmul', inputs: { a: random([2, 37, 53]), b: random([2, 53, 29]) }, want: (i) => matmulCpu(i.a, i.b) },
  { name: 'matmulTransposeBBias', inputs: { a: random([45, 70]), b: random([33, 70]), bias: random([33]) }, want: (i) => matmulCpu(i.a, i.b, { transposeB: true, bias: i.bias }) },
  { name: 'conv3x3BiasSilu', inputs: { x: random([1, 6, 13, 11]), w: random([10, 6, 3, 3]), bias: random([10]) }, want: (i) => conv2dCpu(i.x, i.w, { bias: i.bias, padding: [1, 1], activation: 'silu' }) },
  { name: 'conv3x3Stride2', inputs: { x: random([2, 5, 15, 9]), w: random([7, 5, 3, 3]) }, want: (i) => conv2dCpu(i.x, i.w, { stride: [2, 2], padding: [1, 1] }) },
  { name: 'conv1x1Residual', inputs: { x: random([1, 9, 7, 7]), w: random([4, 9, 1, 1]), r: random([1, 4, 7, 7]) }, want: (i) => conv2dCpu(i.x, i.w, { residual: i.r }) },
  { name: 'groupNormSilu', inputs: { x: random([2, 12, 5, 7]), g: random([12]), b: random([12]) }, want: (i) => groupNormCpu(i.x, 4, 1e-5, i.g, i.b, true) },
  { name: 'layerNorm', inputs: { x: random([3, 17, 40]), g: random([40]), b: random([40]) }, want: (i) => layerNormCpu(i.x, 1e-5, i.g, i.b) },
  { name: 'attention', inputs: { q: random([2, 19, 32]), k: random([2, 23, 32]), v: random([2, 23, 32]) }, want: (i) => attentionCpu(i.q, i.k, i.v, { heads: 2 }) },
  { name: 'attentionCausal', inputs: { q: random([1, 21, 48]), k: random([1, 21, 48]), v: random([1, 21, 48]) }, want: (i) => attentionCpu(i.q, i.k, i.v, { heads: 3, causal: true }) },
  { name: 'softmax', inputs: { x: random([5, 77]) }, want: (i) => softmaxCpu(i.x) },
  { name: 'addBroadcast', inputs: { a: random([3, 1, 5]), b: random([4, 1]) }, want: (i) => binaryCpu('add', i.a, i.b) },
  { name: 'gelu', inputs: { x: random([1000]) }, want: (i) => unaryCpu('gelu', i.x) },
  { name: 'permute', inputs: { x: random([2, 3, 4, 5]) }, want: (i) => permuteCpu(i.x, [0, 2, 3, 1]) },
  { name: 'concat', inputs: { a: random([2, 3, 4]), b: random([2, 5, 4]) }, want: (i) => concatCpu([i.a, i.b], 1) },
  { name: 'upsample', inputs: { x: random([1, 3, 5, 6]) }, want: (i) => upsampleNearest2xCpu(i.x) },
];

/** Runs the named cases in the page with the bundle's ops; returns each output. */
async function runInPage(session: Session, cases: { name: string; inputs: Record<string, Wire> }[]): Promise<Record<string, Wire>> {
  await exposeLib(session.page);
  return session.page.evaluate(async (list) => {
    const lib = (globalThis as unknown as { unicontrol: Lib }).unicontrol;
    const device = await lib.createDevice();
    const out: Record<string, { shape: number[]; data: number[] }> = {};
    for (const { name, inputs } of list) {
      const t = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, lib.tensor(device, Float32Array.from(v.data), v.shape)]));
      const run: Record<string, () => ReturnType<typeof lib.add>> = {
        matmul: () => lib.matmul(t.a, t.b),
        matmulTransposeBBias: () => lib.matmul(t.a, t.b, { transposeB: true, bias: t.bias }),
        conv3x3BiasSilu: () => lib.conv2d(t.x, t.w, { bias: t.bias, padding: [1, 1], activation: 'silu' }),
        conv3x3Stride2: () => lib.conv2d(t.x, t.w, { stride: [2, 2], padding: [1, 1] }),
        conv1x1Residual: () => lib.conv2d(t.x, t.w, { residual: t.r }),
        groupNormSilu: () => lib.groupNorm(t.x, { groups: 4, eps: 1e-5, weight: t.g, bias: t.b, silu: true }),
        layerNorm: () => lib.layerNorm(t.x, { eps: 1e-5, weight: t.g, bias: t.b }),
        attention: () => lib.attention(t.q, t.k, t.v, { heads: 2 }),
        attentionCausal: () => lib.attention(t.q, t.k, t.v, { heads: 3, causal: true }),
        softmax: () => lib.softmax(t.x),
        addBroadcast: () => lib.add(t.a, t.b),
        gelu: () => lib.gelu(t.x),
        permute: () => lib.permute(t.x, [0, 2, 3, 1]),
        concat: () => lib.concat([t.a, t.b], 1),
        upsample: () => lib.upsampleNearest2x(t.x),
      };
      const y = run[name]();
      out[name] = { shape: [...y.shape], data: [...(await y.read())] };
    }
    device.destroy();
    return out;
  }, cases);
}

/** Largest |got − want| relative to the largest |want| (at least 1). */
function relError(got: Wire, want: HostTensor): number {
  let err = 0;
  let scale = 1;
  for (let i = 0; i < want.data.length; i++) {
    err = Math.max(err, Math.abs(got.data[i] - want.data[i]));
    scale = Math.max(scale, Math.abs(want.data[i]));
  }
  return err / scale;
}

describe.skipIf(!HAVE_CHROMIUM)('core ops in Chromium against the CPU references', () => {
  let session: Session;
  let results: Record<string, Wire>;
  beforeAll(async () => {
    session = await openSession();
    const wire = (h: HostTensor): Wire => ({ shape: h.shape, data: [...h.data] });
    results = await runInPage(session, CASES.map((c) => ({ name: c.name, inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, wire(v)])) })));
  }, 300_000);
  afterAll(async () => {
    await session?.close();
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const want = c.want(c.inputs);
    const got = results[c.name];
    expect(got.shape).toEqual(want.shape);
    expect(relError(got, want), `seed ${seed}`).toBeLessThan(2e-5);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('PNG encoding in Chromium', () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSession();
    await exposeLib(session.page);
  });
  afterAll(async () => {
    await session?.close();
  });

  it('writes the same bytes as Node for the same pixels, and decodes them back', async () => {
    for (const [width, height] of [[1, 1], [64, 64], [97, 41]]) {
      const data = new Uint8Array(width * height * 4);
      for (let i = 0; i < data.length; i++) data[i] = (state = (state * 1103515245 + 12345) % 2147483648) % (i % 7 === 0 ? 256 : 16);
      const inBrowser = await session.page.evaluate(
        ({ width, height, pixels }) => [...(globalThis as unknown as { unicontrol: Lib }).unicontrol.encodePng({ width, height, data: Uint8Array.from(pixels) })],
        { width, height, pixels: [...data] },
      );
      expect(Buffer.from(inBrowser).equals(Buffer.from(encodePng({ width, height, data }))), `${width}x${height}, seed ${seed}`).toBe(true);
      // And decodes them back to the same pixels, as Node does.
      const decoded = await session.page.evaluate(
        (bytes) => [...(globalThis as unknown as { unicontrol: Lib }).unicontrol.decodePng(Uint8Array.from(bytes)).data],
        [...inBrowser],
      );
      expect(Uint8Array.from(decoded)).toEqual(data);
    }
  });
});
