// Kernel choices measured on the adapter in hand. An op with several kernels that can run a given
// call (conv2d: Winograd or the implicit GEMM for a 3x3 stride-1 convolution) asks the device's
// `Tuning` for the choice; `Device.autotune()` times the candidates of every call a computation
// makes, once per key, and records the fastest. Until a key is tuned the op uses its heuristic.

import { OVERSLEEP_BACKOFF, quietSample } from './quiet.ts';

/** A choice among kernels for one kind of call, offered by an op while `Device.autotune` plans. */
export interface Tunable {
  /** Everything the kernels' speed depends on: op, dtype, shapes, options. */
  key: string;
  /** The variants that can run this call (each a valid `variant` option of the op). */
  candidates: readonly string[];
  /**
   * Makes inputs of the call's shapes (zero-filled: timing does not depend on the values) and
   * returns a function that records the call with one variant, and a clean-up.
   */
  prepare(): { run(variant: string): void; dispose(): void };
}

/** What `Device.autotune` measured for one key. */
export interface TuningResult {
  key: string;
  /** Milliseconds per call of each candidate (median of the timed samples). */
  ms: Record<string, number>;
  chosen: string;
}

/** Calls in the sample that counts, after the warm-up ones. */
const SAMPLES = 3;

/** The choices of one device: tuned keys, and while planning the calls offered for tuning. */
export class Tuning {
  private readonly chosen = new Map<string, TuningResult>();
  /** Set while `Device.autotune` runs its function: the untuned calls it makes. */
  offered: Map<string, Tunable> | null = null;

  /** The tuned variant for `key`, if tuned. */
  choice(key: string): string | undefined {
    return this.chosen.get(key)?.chosen;
  }

  /** Offers a call for tuning (ignored unless planning, or when the key is tuned). */
  offer(tunable: Tunable): void {
    if (this.offered && !this.chosen.has(tunable.key)) this.offered.set(tunable.key, tunable);
  }

  record(result: TuningResult): void {
    this.chosen.set(result.key, result);
  }

  /** Every tuned key with its measurements, in the order they were tuned. */
  results(): TuningResult[] {
    return [...this.chosen.values()];
  }

  /** Forgets every choice (ops fall back to their heuristics until tuned again). */
  clear(): void {
    this.chosen.clear();
  }
}

/**
 * Times `run` per call on an idle GPU: an untimed call (touches the buffers; the first dispatch of
 * a pipeline can include the driver's compilation), a spinning call that gives a first estimate,
 * then quiet samples of SAMPLES calls, each expecting the previous one's time and retaken at a
 * lower expectation when it overslept. The quiet wait's own cost model is not used: it would
 * oversleep differently for each candidate (their declared costs differ).
 */
export async function timeCalls(run: () => void, waitIdle: () => Promise<void>): Promise<number> {
  // `run` records and submits one call.
  const record = (reps: number) => {
    for (let i = 0; i < reps; i++) run();
  };
  run();
  await waitIdle();
  let perCall = (await quietSample(record, 1, 0, waitIdle)).ms;
  for (let attempt = 0; attempt < 12; attempt++) {
    const s = await quietSample(record, SAMPLES, SAMPLES * perCall, waitIdle);
    if (!s.overslept) return s.ms / SAMPLES;
    perCall *= OVERSLEEP_BACKOFF;
  }
  return perCall; // below every oversleeping expectation: still an upper bound
}
