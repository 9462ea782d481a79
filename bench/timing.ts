// How the benchmark times GPU work, for our ops, the FMA probe and TensorFlow.js alike.
//
// One sample = record `reps` repetitions of the work in one go (no waiting in between), submit,
// then wait until the GPU has finished all of it; the sample's time per repetition is the wall
// time from the first recorded repetition to the end of the wait, divided by `reps`. The wait is
// quiet: the `webgpu` binding spins a CPU core while any GPU promise is pending (DESIGN.md), and
// on a 2-core software adapter that core is taken from the shader threads. So before creating
// the promise we sleep for QUIET_FRACTION of the time the previous sample took, and only the
// last stretch is spent awaiting it.

import { OVERSLEEP_BACKOFF, quietSample, QUIET_FRACTION, SPIN_DISCOUNT } from '@unicontrol/core';

export { QUIET_FRACTION };

/**
 * Something that can be timed: `record(reps)` enqueues `reps` repetitions (and submits them);
 * `wait()` resolves once the GPU has finished everything enqueued.
 */
export interface Workload {
  record(reps: number): void;
  wait(): Promise<void>;
}

/**
 * Times one sample of `reps` repetitions; `expectedMs` is the predicted total (0 when unknown).
 * Returns the sample's milliseconds and whether the GPU was done before the sleep ended (the
 * prediction was too high: the time is an overestimate).
 */
export async function sample(work: Workload, reps: number, expectedMs: number): Promise<{ ms: number; overslept: boolean }> {
  return quietSample((r) => work.record(r), reps, expectedMs, () => work.wait());
}

export interface TimingOptions {
  /** Samples that count, after warm-up (the median is reported). */
  runs: number;
  /** Wanted wall time of one sample, ms: sets the repetitions per sample. */
  targetMs: number;
  /** Upper bound on repetitions per sample. */
  maxReps: number;
}

export interface Timing {
  /** Median time per repetition, ms. */
  ms: number;
  /** Repetitions per sample. */
  reps: number;
  /** Every counted sample's time per repetition, ms. */
  samples: number[];
}

/**
 * Time per repetition from one uncounted sample of `reps` repetitions expected to take
 * `expectedMs`. If the sleep outlasted the work (the expectation came from an outlier, e.g. a GC
 * or the machine's other load during an earlier sample), the sample measured the sleep: it is
 * retaken awaiting from the start, which bounds the work from above, and that is discounted for
 * the binding's spinning (an underestimate only makes the next sample spin longer).
 */
async function perRepetition(work: Workload, reps: number, expectedMs: number): Promise<number> {
  const s = await sample(work, reps, expectedMs);
  if (!s.overslept) return s.ms / reps;
  return ((await sample(work, reps, 0)).ms * SPIN_DISCOUNT) / reps;
}

/** A workload's batch size and its running estimate of the time per repetition. */
interface Batch {
  work: Workload;
  reps: number;
  perRep: number;
}

/**
 * Picks the repetitions per sample so that one sample takes about `targetMs`. The caller has run
 * the work once already (compiling its pipelines and touching its buffers); the calibration
 * samples double as further warm-up.
 */
async function calibrate(work: Workload, opts: TimingOptions): Promise<Batch> {
  const batchFor = (perRep: number) => Math.max(1, Math.min(opts.maxReps, Math.round(opts.targetMs / perRep)));
  let perRep = (await sample(work, 1, 0)).ms;
  let reps = 1;
  if (perRep * 20 < opts.targetMs) {
    // Too short to trust one repetition: calibrate on a batch.
    reps = Math.min(opts.maxReps, Math.max(2, Math.floor(opts.targetMs / 10 / perRep)));
    perRep = await perRepetition(work, reps, perRep * reps);
  }
  // Warm up at the batch size the estimate asks for, and again while the warm-up moves the
  // estimate by more than 2x: a first estimate inflated by an outlier would otherwise fix a batch
  // of a few repetitions whose samples all oversleep (seen: 2 samples of 8 repetitions for a
  // 0.8 ms op, where about 370 were wanted).
  for (let settle = 0; settle < 3; settle++) {
    const next = batchFor(perRep);
    if (settle > 0 && next <= 2 * reps && reps <= 2 * next) break;
    reps = next;
    perRep = await perRepetition(work, reps, perRep * reps);
  }
  return { work, reps, perRep };
}

/**
 * One counted sample's time per repetition, or undefined if 4 tries all overslept. A sample that
 * overslept measured the sleep, not the work: it is retaken expecting less (a bounded number of
 * times, so a workload that finishes within the 1 ms granularity still ends).
 */
async function counted(b: Batch): Promise<number | undefined> {
  for (let tries = 0; tries < 4; tries++) {
    const s = await sample(b.work, b.reps, b.perRep * b.reps);
    if (!s.overslept) return (b.perRep = s.ms / b.reps);
    b.perRep *= OVERSLEEP_BACKOFF;
  }
  return undefined;
}

/**
 * Calibrates each workload (see `calibrate`), then takes `runs` rounds of one sample of each, in
 * order; a round counts only if every sample in it did. Each workload's timing is the median of
 * its samples in the counted rounds.
 */
async function measureRounds(works: readonly Workload[], opts: TimingOptions): Promise<Timing[]> {
  const batches: Batch[] = [];
  for (const work of works) batches.push(await calibrate(work, opts));
  const rounds: number[][] = [];
  for (let i = 0; i < opts.runs; i++) {
    const round: number[] = [];
    for (const b of batches) {
      const ms = await counted(b);
      if (ms !== undefined) round.push(ms);
    }
    if (round.length === batches.length) rounds.push(round);
  }
  if (rounds.length === 0) rounds.push(batches.map((b) => b.perRep));
  return batches.map((b, k) => {
    const samples = rounds.map((r) => r[k]);
    return { ms: median(samples), reps: b.reps, samples };
  });
}

/** Picks the batch size (see `calibrate`), then takes `runs` samples and returns their median. */
export async function measure(work: Workload, opts: TimingOptions): Promise<Timing> {
  const [t] = await measureRounds([work], opts);
  return t;
}

/**
 * `measure` for two workloads whose samples alternate, `work`'s then `other`'s: each pair ran
 * within about twice the target time, so a ratio of the two sees the same state of a shared
 * machine (the FMA probe beside an op). Pairs where either side overslept 4 times are dropped.
 */
export async function measurePaired(work: Workload, other: Workload, opts: TimingOptions): Promise<{ work: Timing; other: Timing }> {
  const [w, o] = await measureRounds([work, other], opts);
  return { work: w, other: o };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
