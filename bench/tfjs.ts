// TensorFlow.js's WebGPU backend under Node, on Dawn, as the benchmark's point of comparison.
//
// tfjs-backend-webgpu registers itself on import when `navigator.gpu` exists, and needs nothing
// else of a browser in Node (tfjs-core's Node platform covers the rest). We hand it the same
// Dawn `GPU` instance our library uses, so both get the same adapter (each makes its own device).

import type { Workload } from './timing.ts';

export type TF = typeof import('@tensorflow/tfjs-core');
export type TFTensor = import('@tensorflow/tfjs-core').Tensor;

/** The parts of tfjs-backend-webgpu's WebGPUBackend the benchmark touches (JS-public, TS-private). */
interface WebGPUBackendInternals {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** tfjs ready on its WebGPU backend, plus a way to wait for its GPU work. */
export interface TfjsSession {
  tf: TF;
  /** The GPU device tfjs made for itself. */
  device: GPUDevice;
  /** Submits whatever tfjs has recorded but not yet submitted. */
  flush(): void;
  /** Errors Dawn reported on tfjs's device since the last call (validation, out of memory). */
  takeErrors(): string[];
}

/**
 * Loads tfjs-core and its WebGPU backend on `gpu` (a Dawn `GPU` the caller keeps alive for the
 * whole run: if it is garbage-collected, Dawn crashes).
 */
export async function startTfjs(gpu: GPU): Promise<TfjsSession> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu !== gpu) {
    // Node ≥ 21 defines a read-only `navigator` getter: replace the property, don't assign it.
    Object.defineProperty(globalThis, 'navigator', { value: { ...g.navigator, gpu }, configurable: true, writable: true });
  }
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend failed to initialise');
  await tf.ready();
  const backend = tf.backend() as unknown as WebGPUBackendInternals;
  const errors: string[] = [];
  backend.device.addEventListener('uncapturederror', (ev) => {
    errors.push((ev as GPUUncapturedErrorEvent).error.message.split('\n')[0]);
  });
  return {
    tf,
    device: backend.device,
    flush() {
      if (!backend.commandEncoder) return;
      backend.endComputePassEncoder();
      backend.submitQueue();
    },
    takeErrors: () => errors.splice(0),
  };
}

/**
 * A tfjs computation as a `Workload`: each repetition runs in `tf.tidy` (its tensors are freed,
 * tfjs recycles the buffers), and the wait is on tfjs's device queue, the same quiet wait as ours.
 */
export function tfjsWorkload(session: TfjsSession, run: () => void): Workload {
  return {
    record(reps) {
      for (let i = 0; i < reps; i++) session.tf.tidy(() => void run());
      session.flush();
    },
    wait: () => session.device.queue.onSubmittedWorkDone(),
  };
}
