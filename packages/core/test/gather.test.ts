import { describe, expect, it } from 'vitest';
import * as ops from '../src/index.ts';
import { gather } from '../src/ops/gather.ts';
import { gatherCpu } from '../src/reference/gather.ts';
import { expectClose, randomPair, rng, testDevice } from './helpers.ts';

describe('gather (embedding lookup)', () => {
  for (const dtype of ['f32', 'f16'] as const) {
    it(`${dtype}: ids of any shape pick whole rows, exactly`, async () => {
      const device = await testDevice();
      const r = rng();
      for (const [vocab, dim, idsShape] of [
        [7, 1, [5]],
        [50, 17, [2, 77]],
        [1, 3, [4]],
        [100, 768, [2, 3, 4]],
        [9, 5, []],
        [9, 5, [0]],
      ] as [number, number, number[]][]) {
        const table = randomPair(device, [vocab, dim], r, { dtype });
        const ids = Int32Array.from({ length: idsShape.reduce((a, b) => a * b, 1) }, () => Math.floor(r.uniform() * vocab));
        const got = gather(table.gpu, ops.tensor(device, ids, idsShape));
        await expectClose(got, gatherCpu(table.host, ids, idsShape), 0, `${vocab}x${dim} ids ${idsShape}`);
      }
    });

    it(`${dtype}: out-of-range ids give NaN rows and leave the others intact`, async () => {
      const device = await testDevice();
      const table = randomPair(device, [6, 4], rng(), { dtype });
      const ids = Int32Array.from([2, -1, 6, 5, 2147483647, -2147483648, 0]);
      const got = await gather(table.gpu, ops.tensor(device, ids, [7])).read();
      const want = gatherCpu(table.host, ids, [7]).data;
      want.forEach((w, i) => {
        if (Number.isNaN(w)) expect(Number.isNaN(got[i]), `element ${i}`).toBe(true);
        else expect(got[i], `element ${i}`).toBe(w);
      });
    });
  }

  it('a table in row parts gathers like the whole table, NaN for ids beyond all parts', async () => {
    const device = await testDevice();
    const r = rng();
    const table = randomPair(device, [23, 6], r);
    const parts = [[0, 9], [9, 10], [10, 23]].map(([a, b]) => ops.sliceAxis(table.gpu, 0, a, b));
    const ids = Int32Array.from([0, 8, 9, 10, 22, 23, -1, 15, 3]);
    const got = await gather(parts, ops.tensor(device, ids, [3, 3])).read();
    const want = gatherCpu(table.host, ids, [3, 3]).data;
    want.forEach((w, i) => {
      if (Number.isNaN(w)) expect(Number.isNaN(got[i]), `element ${i}`).toBe(true);
      else expect(got[i], `element ${i}`).toBe(w);
    });
    expect(() => gather([table.gpu, ops.zeros(device, [2, 5])], ops.tensor(device, ids, [9]))).toThrow(/differ in width/);
  });

  it('rejects non-integer ids and tables that are not 2-D', async () => {
    const device = await testDevice();
    const table = ops.zeros(device, [4, 3]);
    expect(() => gather(table, ops.zeros(device, [2]))).toThrow('gather: ids [2] must be i32, got f32');
    expect(() => gather(ops.zeros(device, [12]), ops.zeros(device, [2], 'i32'))).toThrow('gather: table must have rank 2, got [12]');
    expect(() => gather(ops.zeros(device, [4, 3], 'i32'), ops.zeros(device, [2], 'i32'))).toThrow('gather: input 0 has dtype i32');
  });
});
