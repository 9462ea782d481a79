// The demo page: load a model (file or URL), pick a task and an image, generate with progress and
// Cancel. `document.body.dataset.state` tracks the page's state for tests: gpu, ready, loading,
// loaded, generating, done, cancelled, error.

import {
  AdapterError,
  createDevice,
  DeviceLostError,
  ShapeError,
  TASK_INFO,
  UniControlPipeline,
  decodeImage,
  taskInfo,
  type Device,
  type GenerateOptions,
} from '../lib.ts';
import { $, draw, dropZone, mb, say } from './dom.ts';
import { counted, loadTokenizer, weightsSource } from './sources.ts';

let device: Device | undefined;
let pipeline: UniControlPipeline | undefined;
let running: AbortController | undefined;

const state = (s: string) => (document.body.dataset.state = s);

/** A one-line explanation of an error, naming the usual cause. */
function explain(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  if (e instanceof DeviceLostError) return `The GPU device was lost (driver reset, or out of memory): ${m}. Reload the page to start again.`;
  if (e instanceof ShapeError && /limit/.test(m)) return `This GPU's limits are exceeded: ${m}. Try a smaller resolution, or another browser/GPU.`;
  if (e instanceof AdapterError) return m;
  return m;
}

function fail(e: unknown): void {
  console.error(e);
  say(explain(e), true);
  state('error');
}

async function startGpu(): Promise<void> {
  const status = $<HTMLParagraphElement>('gpu-status');
  try {
    device = await createDevice();
  } catch (e) {
    status.textContent = `No WebGPU: ${explain(e)}`;
    status.className = 'error';
    state('no-webgpu');
    return;
  }
  const f16 = device.hasF16;
  const dtype = $<HTMLSelectElement>('dtype');
  (dtype.querySelector('option[value=f16]') as HTMLOptionElement).disabled = !f16;
  status.textContent =
    `WebGPU adapter: ${device.adapter.name}; largest storage binding ${mb(device.limits.maxStorageBufferBindingSize)}. ` +
    (f16 ? 'float16 storage available.' : "No 'shader-f16' on this adapter: tensors are stored in float32 (twice the memory).");
  void device.gpu.lost.then((info) => {
    if (info.reason !== 'destroyed') fail(new DeviceLostError(info.message || String(info.reason)));
  });
  state('ready');
}

async function loadModel(): Promise<void> {
  if (!device) return;
  const bar = $<HTMLProgressElement>('load-progress');
  const text = $<HTMLSpanElement>('load-status');
  state('loading');
  say('');
  try {
    pipeline?.dispose();
    pipeline = undefined;
    $<HTMLButtonElement>('generate').disabled = true;
    text.textContent = 'reading the vocabulary…';
    const tokenizer = await loadTokenizer($('vocab-files').files, $('vocab-url').value.trim());
    const source = await weightsSource($('weights-file').files?.[0], $('weights-url').value.trim());
    const started = performance.now();
    const weights = counted(source, (done, total) => {
      bar.value = done / total;
      text.textContent = `loading weights: ${mb(done)} of ${mb(total)}`;
    });
    pipeline = await UniControlPipeline.load({
      weights,
      tokenizer,
      device,
      dtype: $<HTMLSelectElement>('dtype').value as 'f32' | 'f16',
      settings: { unetHeads: Number($('unet-heads').value), clipHeads: Number($('clip-heads').value) },
    });
    bar.value = 1;
    text.textContent = `model loaded (${mb(source.size)} in ${((performance.now() - started) / 1000).toFixed(1)} s)`;
    $<HTMLButtonElement>('generate').disabled = false;
    state('loaded');
  } catch (e) {
    text.textContent = 'not loaded';
    fail(e);
  }
}

async function generate(): Promise<void> {
  if (!pipeline) return;
  const file = $('image-file').files?.[0];
  if (!file) return say('pick or drop an image (a condition map, or a photo for the preprocessor)', true);
  const task = taskInfo($<HTMLSelectElement>('task').value);
  const photo = $('kind-photo').checked;
  if (photo && !task.preprocessor) return say(`${task.name} has no built-in preprocessor: give its condition map (${task.condition})`, true);
  const pre = $('preprocess').value.trim();
  const bar = $<HTMLProgressElement>('gen-progress');
  const text = $<HTMLSpanElement>('gen-status');
  running = new AbortController();
  $<HTMLButtonElement>('generate').disabled = true;
  $<HTMLButtonElement>('cancel').disabled = false;
  state('generating');
  say('');
  try {
    const image = await decodeImage(file);
    const options: GenerateOptions = {
      task: task.name,
      ...(photo ? { image, ...(pre ? { preprocess: JSON.parse(pre) as Record<string, unknown> } : {}) } : { condition: image }),
      prompt: $('prompt').value,
      negativePrompt: $('negative').value,
      steps: Number($('steps').value),
      guidance: Number($('guidance').value),
      strength: Number($('strength').value),
      seed: BigInt($('seed').value.trim()),
      resolution: Number($('resolution').value),
      signal: running.signal,
      onProgress: ({ step, total, etaMs }) => {
        bar.value = (step + 1) / total;
        text.textContent = `step ${step + 1} of ${total}, about ${(etaMs / 1000).toFixed(0)} s left`;
      },
    };
    bar.value = 0;
    text.textContent = 'encoding the prompt…';
    const result = await pipeline.generate(options);
    draw($<HTMLCanvasElement>('condition-view'), result.conditions[0].map);
    const out = result.images[0];
    draw($<HTMLCanvasElement>('result-view'), { width: out.width, height: out.height, data: out.rgba });
    const link = $<HTMLAnchorElement>('download');
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([out.png() as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
    link.hidden = false;
    const t = result.timings;
    text.textContent = `done: ${result.width}x${result.height}, seed ${result.seed}, sampling ${(t.sampling / 1000).toFixed(1)} s`;
    state('done');
  } catch (e) {
    if (running.signal.aborted) {
      text.textContent = 'cancelled';
      state('cancelled');
    } else fail(e);
  } finally {
    running = undefined;
    $<HTMLButtonElement>('generate').disabled = false;
    $<HTMLButtonElement>('cancel').disabled = true;
  }
}

function showTask(): void {
  const t = taskInfo($<HTMLSelectElement>('task').value);
  $<HTMLSpanElement>('task-doc').textContent = `${t.instruction}. Condition: ${t.condition}.${t.preprocessor ? ` Built-in preprocessor: ${t.preprocessor}.` : ''}`;
  $('kind-photo').disabled = !t.preprocessor;
  if (!t.preprocessor) $('kind-map').checked = true;
}

function init(): void {
  state('gpu');
  const task = $<HTMLSelectElement>('task');
  for (const t of TASK_INFO) task.add(new Option(t.name.slice('control_'.length), t.name));
  task.value = 'control_canny';
  task.addEventListener('change', showTask);
  showTask();
  dropZone($('weights-drop'), $('weights-file'));
  dropZone($('vocab-drop'), $('vocab-files'));
  dropZone($('image-drop'), $('image-file'));
  $('load').addEventListener('click', () => void loadModel());
  $('generate').addEventListener('click', () => void generate());
  $('cancel').addEventListener('click', () => running?.abort());
  void startGpu();
}

init();
