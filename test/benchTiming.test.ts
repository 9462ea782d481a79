// bench/timing.ts's measure() and measurePaired(): the batch size they settle on and the medians
// they report, on a stand-in for the GPU (timers), including a first sample inflated by an outlier.

import { describe, expect, it } from 'vitest';
import { measure, measurePaired, type Workload } from '../bench/timing.ts';

/**
 * A workload whose "GPU" is busy `msPerRep` per recorded repetition after the previous work;
 * the first `slowFirst` ms are added to the first recording (a GC or the machine's other load).
 */
function simulated(msPerRep: number, slowFirst = 0): Workload {
  let busyUntil = 0;
  let recorded = 0;
  return {
    record(reps) {
      busyUntil = Math.max(performance.now(), busyUntil) + reps * msPerRep + (recorded++ === 0 ? slowFirst : 0);
    },
    // An idle GPU answers at once (a timer would take its 1 ms granularity, which looks busy).
    wait: () => (busyUntil <= performance.now() ? Promise.resolve() : new Promise<void>((resolve) => setTimeout(resolve, busyUntil - performance.now()))),
  };
}

describe('measure', () => {
  it('batches repetitions to the target duration and reports the time per repetition', async () => {
    const t = await measure(simulated(0.5), { runs: 5, targetMs: 40, maxReps: 1000 });
    expect(t.samples).toHaveLength(5);
    expect(t.reps).toBeGreaterThanOrEqual(40);
    expect(t.reps).toBeLessThanOrEqual(160);
    expect(Math.abs(t.ms - 0.5)).toBeLessThan(0.1);
  });

  it('recovers from a first sample 80x too slow instead of sampling a few oversleeping repetitions', async () => {
    const t = await measure(simulated(0.5, 40), { runs: 5, targetMs: 40, maxReps: 1000 });
    expect(t.samples).toHaveLength(5);
    expect(t.reps).toBeGreaterThanOrEqual(40);
    expect(Math.abs(t.ms - 0.5)).toBeLessThan(0.1);
  });

  it('alternates two workloads sample by sample and reports the time per repetition of each', async () => {
    const t = await measurePaired(simulated(0.5), simulated(2), { runs: 5, targetMs: 40, maxReps: 1000 });
    expect(t.work.samples).toHaveLength(5);
    expect(t.other.samples).toHaveLength(5);
    expect(Math.abs(t.work.ms - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(t.other.ms - 2)).toBeLessThan(0.4);
    expect(t.other.reps).toBeLessThan(t.work.reps);
  });
});
