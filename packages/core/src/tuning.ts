// Kernel choices measured on the adapter in hand. An op with several kernels that can run a given
// call (conv2d: Winograd or the implicit GEMM for a 3x3 stride-1 convolution) asks the device's
// `Tuning` for the choice; `Device.autotune()` times the candidates of every call a computation
// makes, once per key, and records the fastest. Until a key is tuned the op uses its heuristic.

import { sleep } from './recorder.ts';

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

/** Timed calls per candidate, after two warm-up calls. */
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
 * Times `run` per call on an idle GPU: a first call (touches the buffers; its wait spins), a
 * second that sleeps through most of the first one's time before waiting, then SAMPLES calls
 * recorded back to back that do the same. `waitIdle` must wait without a predicted sleep of its
 * own: the quiet wait's cost model would oversleep differently for each candidate (their declared
 * costs differ) and bias the choice. Sleeping keeps the `webgpu` binding's busy wait from taking a
 * core from the shader threads (DESIGN.md), so the candidates run as they will in a step.
 */
export async function timeCalls(run: () => void, waitIdle: () => Promise<void>): Promise<number> {
  let perCall = await sample(run, 1, 0, waitIdle);
  perCall = await sample(run, 1, perCall, waitIdle);
  return sample(run, SAMPLES, perCall, waitIdle);
}

/** Milliseconds per call of `reps` calls, sleeping 85 % of `expectedPerCall` × reps before waiting. */
async function sample(run: () => void, reps: number, expectedPerCall: number, waitIdle: () => Promise<void>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < reps; i++) run();
  const quiet = 0.85 * reps * expectedPerCall - (performance.now() - start);
  if (quiet > 1) await sleep(quiet);
  await waitIdle();
  return (performance.now() - start) / reps;
}
