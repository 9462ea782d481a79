import { describe, expect, it } from 'vitest';
import { Params, tensor, unary } from '../src/index.ts';
import { UNIFORM_SLOT, UniformTable } from '../src/uniforms.ts';
import { testDevice } from './helpers.ts';

/** A stand-in GPU device that records the uniform uploads: [byte offset, bytes]. */
function standIn(): { device: GPUDevice; queue: GPUQueue; writes: [number, number][] } {
  const writes: [number, number][] = [];
  const queue = {
    writeBuffer: (_b: GPUBuffer, offset: number, _d: unknown, _o: number, size: number) => void writes.push([offset, size]),
  } as unknown as GPUQueue;
  const device = { createBuffer: () => ({ destroy: () => undefined }) } as unknown as GPUDevice;
  return { device, queue, writes };
}

const block = (...values: number[]): ArrayBuffer => new Params().u32(...values).bytes();

describe('UniformTable', () => {
  it('gives equal parameter blocks one slot and uploads only new slots', () => {
    const { device, queue, writes } = standIn();
    const table = new UniformTable(device, 8);
    const a = table.offset(block(1, 2), 0);
    const b = table.offset(block(3, 4), 0);
    expect(table.offset(block(1, 2), 0)).toBe(a);
    expect(b).not.toBe(a);
    table.upload(queue);
    expect(writes).toEqual([[0, 2 * UNIFORM_SLOT]]);
    // A later recording with the same blocks uploads nothing; a new block uploads its slot alone.
    expect(table.offset(block(3, 4), 1)).toBe(b);
    table.upload(queue);
    expect(writes).toHaveLength(1);
    expect(table.offset(block(5), 1)).toBe(2 * UNIFORM_SLOT);
    table.upload(queue);
    expect(writes[1]).toEqual([2 * UNIFORM_SLOT, UNIFORM_SLOT]);
  });

  it('rewrites only slots the unsubmitted recording does not use, least recently used first', () => {
    const { device } = standIn();
    const table = new UniformTable(device, 2);
    const a = table.offset(block(1), 0)!;
    const b = table.offset(block(2), 0)!;
    // Full, and both slots serve recording 0: a third block must wait for a submission.
    expect(table.offset(block(3), 0)).toBeNull();
    // Recording 1 uses b, then needs a new block: a's slot (least recently used) is taken.
    expect(table.offset(block(2), 1)).toBe(b);
    expect(table.offset(block(3), 1)).toBe(a);
    expect(table.size).toBe(2);
    // a's content is gone; asking for it again takes the other free-to-rewrite slot only in a new recording.
    expect(table.offset(block(1), 1)).toBeNull();
    expect(table.offset(block(1), 2)).toBe(b);
  });

  it('rejects a block over a slot or not made of 4-byte values', () => {
    const { device } = standIn();
    const table = new UniformTable(device, 2);
    expect(() => table.offset(new ArrayBuffer(UNIFORM_SLOT + 16), 0)).toThrow(/at most 256/);
    expect(() => table.offset(new ArrayBuffer(6), 0)).toThrow(/multiple of 4/);
  });

  it('keeps results right when one recording needs more distinct blocks than the table holds', async () => {
    const device = await testDevice();
    // 5000 chained additions, each with its own scalar in its parameters: the table (4096 slots)
    // fills with blocks of the unsubmitted recording, which is then submitted and slots reused.
    const steps = 5000;
    let want = Math.fround(0.5);
    const got = await device.scope(async () => {
      let y = tensor(device, [0.5, 0.5, 0.5, 0.5], [4]);
      device.resetCounters();
      for (let i = 0; i < steps; i++) {
        const s = Math.fround(1 + i / 1024);
        want = Math.fround(want + s);
        y = unary('addScalar', y, s);
      }
      const submitted = device.counters().submits;
      return { values: await y.read(), submitted };
    });
    expect(got.submitted).toBeGreaterThanOrEqual(1);
    expect([...got.values]).toEqual([want, want, want, want]);
  });
});
