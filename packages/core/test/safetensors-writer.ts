// Test-only: builds safetensors files byte by byte, valid ones and deliberately broken ones.

/** One tensor to write: `data` holds its little-endian bytes. */
export interface TensorToWrite {
  name: string;
  dtype: string;
  shape: number[];
  data: ArrayBufferView;
}

/** The header object of a valid file holding `tensors` back to back, in order. */
export function headerOf(tensors: readonly TensorToWrite[], metadata?: Record<string, unknown>): Record<string, unknown> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  return header;
}

/** The tensors' bytes back to back. */
export function dataOf(tensors: readonly TensorToWrite[]): Uint8Array {
  const out = new Uint8Array(tensors.reduce((n, t) => n + t.data.byteLength, 0));
  let offset = 0;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset);
    offset += t.data.byteLength;
  }
  return out;
}

/**
 * A file from any header (an object to serialise, or raw JSON text/bytes used as given) and data.
 * The length prefix is the header's byte length unless `length` overrides it (to lie about it).
 * Objects are padded with spaces to a multiple of 8 bytes, as the reference writer does.
 */
export function assemble(header: Record<string, unknown> | string | Uint8Array, data: Uint8Array, length?: bigint): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array;
  if (header instanceof Uint8Array) bytes = header;
  else if (typeof header === 'string') bytes = new TextEncoder().encode(header);
  else {
    const json = new TextEncoder().encode(JSON.stringify(header));
    bytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20); // trailing spaces
    bytes.set(json);
  }
  const out = new Uint8Array(8 + bytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(bytes.length), true);
  out.set(bytes, 8);
  out.set(data, 8 + bytes.length);
  return out;
}

/** A valid safetensors file holding `tensors` (and optional string metadata). */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  return assemble(headerOf(tensors, metadata), dataOf(tensors));
}

