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
  /**
   * Milliseconds per call of each candidate: a quiet sample's, or for a candidate in `cutShort`
   * its one spinning call's (an overestimate).
   */
  ms: Record<string, number>;
  chosen: string;
  /** Candidates timed by one spinning call only: over CLEAR_LOSS times the fastest one's. */
  cutShort?: string[];
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
 * A candidate whose spinning call takes more than this many times the spinning call of the
 * fastest candidate so far is not timed further: a clear loser. Both estimates spin, so they
 * compare like with like; on lavapipe the losers of the VAE's large convolutions take 1.6-2.7x the
 * winner (bench/RESULTS.md), and timing each of them 5-7 times made most of a 10-minute autotune.
 */
export const CLEAR_LOSS = 1.5;

/**
 * Calls whose spinning estimate is at least this long (ms) are sampled one call at a time: the
 * per-sample overheads that several calls per sample average out are noise at this length.
 */
export const LONG_CALL_MS = 100;

/** How `timeCalls` timed one candidate. */
export interface CallTiming {
  /** Milliseconds per call: a quiet sample's, or the spinning call's when cut short. */
  ms: number;
  /** The spinning call's time, ms (an overestimate: the wait spins). */
  spinMs: number;
  /** Timed by the spinning call alone: more than CLEAR_LOSS times the rival's. */
  cutShort: boolean;
}

/**
 * Times `run` per call on an idle GPU: an untimed call (touches the buffers; the first dispatch of
 * a pipeline can include the driver's compilation), a spinning call that gives a first estimate,
 * then quiet samples (SAMPLES calls each, one for calls of LONG_CALL_MS or more), each expecting
 * the previous one's time and retaken at a lower expectation when it overslept. The quiet wait's
 * own cost model is not used: it would oversleep differently for each candidate (their declared
 * costs differ). With `rivalSpinMs` (the fastest candidate's spinning call so far), a spinning
 * call over CLEAR_LOSS times it ends the timing there (for calls under LONG_CALL_MS, the faster of
 * two spinning calls).
 */
export async function timeCalls(run: () => void, waitIdle: () => Promise<void>, rivalSpinMs = Infinity): Promise<CallTiming> {
  // `run` records and submits one call.
  const record = (reps: number) => {
    for (let i = 0; i < reps; i++) run();
  };
  run();
  await waitIdle();
  let spinMs = (await quietSample(record, 1, 0, waitIdle)).ms;
  if (spinMs > CLEAR_LOSS * rivalSpinMs && spinMs < LONG_CALL_MS) {
    // One short call is noisy (on lavapipe a near-tie read 3x slow once): confirm on a second.
    spinMs = Math.min(spinMs, (await quietSample(record, 1, 0, waitIdle)).ms);
  }
  if (spinMs > CLEAR_LOSS * rivalSpinMs) return { ms: spinMs, spinMs, cutShort: true };
  const reps = spinMs >= LONG_CALL_MS ? 1 : SAMPLES;
  let perCall = spinMs;
  for (let attempt = 0; attempt < 12; attempt++) {
    const s = await quietSample(record, reps, reps * perCall, waitIdle);
    if (!s.overslept) return { ms: s.ms / reps, spinMs, cutShort: false };
    perCall *= OVERSLEEP_BACKOFF;
  }
  // Below every oversleeping expectation: still an upper bound.
  return { ms: perCall, spinMs, cutShort: false };
}

/**
 * Times each of `candidates` (`call(v)` records and submits one call of candidate v) in order
 * and picks the fastest. Candidates after the first are cut short when clearly slower than the
 * fastest so far (`timeCalls`' rival); a cut candidate is never chosen.
 */
export async function timeCandidates(candidates: readonly string[], call: (variant: string) => () => void, waitIdle: () => Promise<void>): Promise<Omit<TuningResult, 'key'>> {
  if (candidates.length === 0) throw new RangeError('timeCandidates: no candidates');
  const ms: Record<string, number> = {};
  const cutShort: string[] = [];
  let best: { variant: string; ms: number; spinMs: number } | undefined;
  for (const variant of candidates) {
    const t = await timeCalls(call(variant), waitIdle, best?.spinMs);
    ms[variant] = t.ms;
    if (t.cutShort) cutShort.push(variant);
    else if (!best || t.ms < best.ms) best = { variant, ms: t.ms, spinMs: t.spinMs };
  }
  // The first candidate is never cut short, so there is a best.
  return { ms, chosen: best!.variant, ...(cutShort.length ? { cutShort } : {}) };
}
