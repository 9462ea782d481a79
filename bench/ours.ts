// Our library's ops as timed workloads.

import type { Device } from '@unicontrol/core';
import type { Workload } from './timing.ts';

/** Repetitions recorded per submission, so the GPU starts while later ones are still recorded. */
const REPS_PER_SUBMIT = 16;

/**
 * `run` (which records one repetition of an op) as a `Workload`. Each repetition runs in its
 * own `device.scope`, which frees its output and intermediates; the buffers go back to the pool
 * and the next repetition reuses them, so memory stays flat however many repetitions a sample
 * has. The wait submits and awaits the GPU without the library's predicted sleep
 * (`recorder.sync(false)`): the harness sleeps on its own measurements, as for tfjs, and can tell
 * when it overslept.
 */
export function oursWorkload(device: Device, run: () => unknown): Workload {
  return {
    record(reps) {
      for (let i = 0; i < reps; i++) {
        device.scope(() => void run());
        if ((i + 1) % REPS_PER_SUBMIT === 0) device.recorder.flush();
      }
      device.recorder.flush();
    },
    wait: () => device.recorder.sync(false),
  };
}
