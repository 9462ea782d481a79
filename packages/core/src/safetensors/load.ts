// Uploading safetensors tensors to the GPU, one tensor at a time, streamed through bounded chunks.

import type { Device } from '../device.ts';
import { BYTES, type DType } from '../dtype.ts';
import { fmt } from '../errors.ts';
import { numel } from '../shape.ts';
import { upload, type Tensor } from '../tensor.ts';
import { convertInto, hostStorage, storageFor, type FloatStorage } from './convert.ts';
import { FILE_DTYPE_BYTES } from './dtypes.ts';
import { SafetensorsError } from './error.ts';
import type { SafetensorsEntry } from './header.ts';
import { DEFAULT_CHUNK_BYTES, type SafetensorsReader } from './reader.ts';

/** Options for `loadTensor()` and `loadTensorSplit()`. */
export interface LoadOptions {
  /**
   * Storage of float tensors (F32, F16, BF16, F64). Default: f16 for F16 tensors when the device
   * has `shader-f16`, else f32. Integer tensors always load as i32.
   */
  dtype?: FloatStorage;
  /**
   * Largest tensor (or part) in bytes. Default: the device's `maxStorageBufferBindingSize`
   * (or `maxBufferSize` if smaller), the most one kernel binding can see.
   */
  maxBytes?: number;
  /** File bytes read and converted per step (default 16 MiB); bounds CPU memory beside the tensor. */
  chunkBytes?: number;
}

/**
 * Uploads tensor `name` as a GPU tensor of the same shape, in an exact-size buffer (a weight).
 * Refuses (SafetensorsError naming the tensor, its size and the limit) a tensor bigger than
 * `maxBytes`; `loadTensorSplit()` loads such a tensor in parts.
 */
export async function loadTensor(device: Device, reader: SafetensorsReader, name: string, options: LoadOptions = {}): Promise<Tensor> {
  const entry = reader.get(name);
  const dtype = storageOf(device, reader, entry, options);
  const bytes = numel(entry.shape) * BYTES[dtype];
  const limit = maxBytesOf(device, options);
  if (bytes > limit) {
    throw new SafetensorsError(
      `loadTensor: ${label(reader, entry)} ${fmt(entry.shape)} is ${bytes} bytes as ${dtype}, over the limit of ${limit} bytes per GPU binding; load it in parts with loadTensorSplit()`,
    );
  }
  return loadRows(device, reader, entry, dtype, 0, entry.shape[0] ?? 1, options);
}

/**
 * Uploads tensor `name` as consecutive parts along its first axis, each within `maxBytes`
 * (e.g. the CLIP token embedding [49408, 768] f32, 152 MB, becomes two [24704, 768] parts).
 * Parts are as equal as possible; a tensor within the limit comes back as one part.
 */
export async function loadTensorSplit(
  device: Device,
  reader: SafetensorsReader,
  name: string,
  options: LoadOptions = {},
): Promise<Tensor[]> {
  const entry = reader.get(name);
  const dtype = storageOf(device, reader, entry, options);
  const limit = maxBytesOf(device, options);
  if (entry.shape.length === 0) return [await loadTensor(device, reader, name, options)];
  const rows = entry.shape[0];
  const rowBytes = numel(entry.shape.slice(1)) * BYTES[dtype];
  if (rowBytes > limit) {
    throw new SafetensorsError(
      `loadTensorSplit: one row of ${label(reader, entry)} ${fmt(entry.shape)} is ${rowBytes} bytes as ${dtype}, over the limit of ${limit} bytes per GPU binding`,
    );
  }
  const maxRows = rowBytes === 0 ? Math.max(rows, 1) : Math.floor(limit / rowBytes);
  const parts = Math.max(1, Math.ceil(rows / maxRows));
  const perPart = Math.ceil(rows / parts);
  const out: Tensor[] = [];
  try {
    for (let r = 0; r < rows || out.length === 0; r += perPart) {
      out.push(await loadRows(device, reader, entry, dtype, r, Math.min(rows, r + perPart), options));
    }
  } catch (e) {
    for (const t of out) t.dispose();
    throw e;
  }
  return out;
}

/** Reads rows [first, end) of the first axis chunk by chunk, converts them, and uploads them. */
async function loadRows(
  device: Device,
  reader: SafetensorsReader,
  entry: SafetensorsEntry,
  dtype: DType,
  first: number,
  end: number,
  { chunkBytes = DEFAULT_CHUNK_BYTES }: LoadOptions,
): Promise<Tensor> {
  const shape = entry.shape.length === 0 ? [] : [end - first, ...entry.shape.slice(1)];
  const rowElements = numel(entry.shape.slice(1));
  const fileElement = FILE_DTYPE_BYTES[entry.dtype];
  const firstElement = first * rowElements;
  const host = hostStorage(dtype, numel(shape));
  const range = { begin: firstElement * fileElement, end: firstElement * fileElement + host.length * fileElement };
  const where = label(reader, entry);
  for await (const { offset, bytes } of reader.chunks(entry.name, { chunkBytes, range })) {
    const at = (offset - range.begin) / fileElement;
    convertInto(entry.dtype, bytes, dtype, host, at, { label: where, firstElement: firstElement + at });
  }
  // The host copy goes out of scope here: writeBuffer has copied it.
  return upload(device, host, shape, dtype, true);
}

function storageOf(device: Device, reader: SafetensorsReader, entry: SafetensorsEntry, options: LoadOptions): DType {
  const dtype = storageFor(entry.dtype, options.dtype, device.hasF16, label(reader, entry));
  device.checkDType('loadTensor', dtype);
  return dtype;
}

function maxBytesOf(device: Device, options: LoadOptions): number {
  return options.maxBytes ?? Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
}

function label(reader: SafetensorsReader, entry: SafetensorsEntry): string {
  return `${reader.where}: tensor ${JSON.stringify(entry.name)}`;
}
