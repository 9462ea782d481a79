// Waiting for the GPU without spinning. The `webgpu` binding busy-polls the JS thread while any
// of its promises is pending (DESIGN.md), which on a software adapter takes a core from the shader
// threads. So every wait first sleeps for most of the time the work is expected to take, and only
// then creates the promise. `QuietWait` predicts that time from the work's declared cost (the
// recorder's waits); `quietSample` is given it (the benchmarks and the autotuner, which time work).

import type { DeviceLoss } from './recorder.ts';

/** Fraction of the expected time a wait sleeps before it creates the promise. */
export const QUIET_FRACTION = 0.85;

/** An oversleeping sample is retaken (and a quiet wait's rate relearned) at this fraction of its expectation. */
export const OVERSLEEP_BACKOFF = 0.8;

/**
 * A wait that awaited from the start timed work slowed by the binding's spinning: it is learned
 * at this fraction. Measured on the 2-core lavapipe machine: a guided step that took 7.3 s after
 * a quiet wait took 12.75 s (1.75x) when awaited at once; on more cores the spin costs less and a
 * rate learned low only shortens the next sleep.
 */
export const SPIN_DISCOUNT = 0.6;

/** Shorter waits are not learned from: fixed per-submission overheads would dominate them. */
const LEARN_MIN_MS = 20;

/**
 * Whether a wait that slept until `waited` and settled at `end` found the GPU already idle (it
 * overslept): it settled within 0.5 ms plus 2 % of the whole wait. The margin covers settling a
 * read (a copy and a map after the work) as well as a bare onSubmittedWorkDone; a wait whose
 * prediction was right spends its last (1 − QUIET_FRACTION) awaiting, far more than 2 %.
 */
function settledAtOnce(start: number, waited: number, end: number): boolean {
  return end - waited < 0.5 + 0.02 * (end - start);
}

/** One timed sample: its wall time, and whether the GPU had finished before the sleep ended. */
export interface QuietSample {
  ms: number;
  /**
   * The wait returned at once after the sleep: the work took less than `ms`, by an unknown
   * amount (the expectation was too high). Retake the sample with a lower expectation.
   */
  overslept: boolean;
}

/**
 * Records and submits `reps` repetitions (`record` must submit: the sleep is only useful while
 * the GPU works), sleeps for QUIET_FRACTION of `expectedMs` (their expected total; 0 when
 * unknown), then waits with `waitIdle`, which must not sleep on a prediction of its own. Shared by
 * `Device.autotune` and the benchmarks.
 */
export async function quietSample(record: (reps: number) => void, reps: number, expectedMs: number, waitIdle: () => Promise<void>): Promise<QuietSample> {
  const start = now();
  record(reps);
  const quiet = QUIET_FRACTION * expectedMs - (now() - start);
  if (quiet > 1) await sleep(quiet);
  const waited = now();
  await waitIdle();
  const end = now();
  return { ms: end - start, overslept: quiet > 1 && settledAtOnce(start, waited, end) };
}

/**
 * What a `QuietWait` has learned of the GPU's speed, to restore in a later process on the same
 * adapter (`Device.waitCalibration`), so that its first long wait sleeps rather than spins.
 */
export interface WaitCalibration {
  /** Milliseconds of GPU time per unit of declared cost (FLOPs + 4 × bytes moved). */
  msPerCost: number;
  /** The longest wait that found the GPU busy, in ms: a prediction never sleeps past twice it. */
  longestBusyMs: number;
}

/**
 * The recorder's wait: predicts the GPU time of the work submitted since the last wait from its
 * declared cost (FLOPs + 4 × bytes moved) times a learned rate, sleeps for QUIET_FRACTION of it,
 * then awaits the promise. The rate is learned from waits that timed GPU work (not tainted by
 * shader compilation, at least LEARN_MIN_MS, not an idle GPU found without sleeping); it follows
 * a faster measurement at once and a slower one halfway, at most 2x per wait, so it settles on
 * the fast side: a low estimate costs some spinning, a high one idles the GPU. The sleep is also
 * bounded by twice the longest wait that found the GPU still busy.
 */
export class QuietWait {
  private cost = 0;
  private since = 0;
  private compiledDuring = false;
  /** The longest wait so far that ended with the GPU still busy: real work of that length exists. */
  private longestBusyMs = 0;
  /** Learned milliseconds per unit of declared cost; 0 until the first long enough wait. */
  msPerCost = 0;
  /** The sleep is taken in slices of at most this long, so a device lost meanwhile is noticed. */
  readonly sliceMs = 1000;

  /** The learned speed (`msPerCost` 0 until a wait long enough to learn from). */
  calibration(): WaitCalibration {
    return { msPerCost: this.msPerCost, longestBusyMs: this.longestBusyMs };
  }

  /** Starts from an earlier calibration; both values must be finite and ≥ 0. */
  calibrate(c: WaitCalibration): void {
    for (const name of ['msPerCost', 'longestBusyMs'] as const) {
      const v: unknown = c?.[name];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`waitCalibration.${name} must be a finite number ≥ 0, got ${String(v)}`);
    }
    this.msPerCost = c.msPerCost;
    this.longestBusyMs = c.longestBusyMs;
  }

  add(cost: number): void {
    this.cost += cost;
  }

  /** Whether work was submitted since the last wait (it may still be running). */
  get inFlight(): boolean {
    return this.since !== 0;
  }

  /** Whether the current window is unfit to learn from (`taint`). */
  get tainted(): boolean {
    return this.compiledDuring;
  }

  /** Marks the current window as unfit to learn from (it included shader compilation). */
  taint(): void {
    this.compiledDuring = true;
  }

  /**
   * Marks a submission. The wait is timed from the last one: earlier submissions of the window
   * may have left the GPU idle while the JS thread went on (recording, or a test's CPU
   * reference), and that time is not work. Timing from the last one can only underestimate the
   * rate, which costs some spinning, never an idle GPU.
   */
  submitted(): void {
    this.since = now();
  }

  /**
   * Waits for `promise()` quietly. Rejects with the device's `DeviceLostError` when the device is
   * lost before or while waiting (a destroyed device may never settle the promise), and when the
   * promise fails because the device went away (Dawn aborts a pending map before it reports the loss).
   * `predict: false` skips the sleep and learns nothing (for callers that sleep on their own).
   */
  async until(promise: () => Promise<unknown>, lost: DeviceLoss, predict = true): Promise<void> {
    const start = this.since || now();
    // The whole predicted time, not a fixed cap: a step of seconds would otherwise spend most of
    // its wait spinning. But never more than twice the longest busy wait seen, so that a rate
    // inflated by waits that timed overheads, not work, cannot put a wait to sleep for minutes.
    const predicted = predict ? Math.min(this.cost * this.msPerCost, 2 * this.longestBusyMs) : 0;
    const quietUntil = start + QUIET_FRACTION * predicted;
    for (let left = quietUntil - now(); left > 1; left = quietUntil - now()) {
      await sleep(Math.min(left, this.sliceMs));
      lost.throwIfLost();
    }
    lost.throwIfLost();
    const waited = now();
    await lost.race(promise());
    const end = now();
    const slept = quietUntil - start > 1;
    const atOnce = settledAtOnce(start, waited, end);
    if (!atOnce) this.longestBusyMs = Math.max(this.longestBusyMs, end - start);
    // A wait that found the GPU idle without having slept timed the JS thread, not the work.
    if (predict && end - start >= LEARN_MIN_MS && this.cost > 0 && !this.compiledDuring && (slept || !atOnce)) {
      // Oversleeping measured the sleep, an upper bound of the work: relearn below it. Awaiting
      // from the start measured the work slowed by the spin.
      const rate = ((atOnce ? OVERSLEEP_BACKOFF : slept ? 1 : SPIN_DISCOUNT) * (end - start)) / this.cost;
      // Down at once, up halfway and at most 2x per wait: a slow outlier costs one short
      // oversleep, and no single wait can send the next one to sleep far past its work.
      this.msPerCost = this.msPerCost === 0 || rate < this.msPerCost ? rate : Math.min((this.msPerCost + rate) / 2, 2 * this.msPerCost);
    }
    this.cost = 0;
    this.since = 0;
    this.compiledDuring = false;
  }
}

function now(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
