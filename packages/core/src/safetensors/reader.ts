import { FILE_DTYPE_BYTES } from './dtypes.ts';
import { SafetensorsError } from './error.ts';
import { parseHeader, readHeaderLength, type SafetensorsEntry } from './header.ts';
import { blobSource, fileSource, type ByteSource } from './source.ts';

/** Options for `openSafetensors()`. */
export interface OpenOptions {
  /** Largest header accepted, in bytes (default 100 MiB): a corrupt length must not allocate gigabytes. */
  maxHeaderBytes?: number;
}

/** A byte range inside one tensor's data, in bytes from the tensor's first byte. */
export interface ByteRange {
  begin: number;
  end: number;
}

/** Default bytes per chunk when streaming a tensor. */
export const DEFAULT_CHUNK_BYTES = 16 << 20;

/**
 * Opens a safetensors file and validates its header; tensor data stays in the file until read.
 * `source` is a path (Node), a Blob/File (browser or Node), or any `ByteSource`. Only the 8-byte
 * length is read before the length is bounded by the file size and `maxHeaderBytes`.
 * Throws `SafetensorsError` for a malformed or truncated file.
 */
export async function openSafetensors(source: ByteSource | Blob | string, options: OpenOptions = {}): Promise<SafetensorsReader> {
  const src = typeof source === 'string' ? await fileSource(source) : isBlob(source) ? blobSource(source) : source;
  try {
    const where = src.name ?? 'safetensors source';
    const place = { where, fileSize: src.size };
    const prefix = await readExactly(src, 0, Math.min(8, src.size), where);
    const headerBytes = readHeaderLength(prefix, options.maxHeaderBytes ?? 100 << 20, place);
    const header = parseHeader(await readExactly(src, 8, headerBytes, where), place);
    return new SafetensorsReader(src, header.tensors, header.metadata, 8 + headerBytes);
  } catch (e) {
    if (typeof source === 'string') await src.close?.(); // we opened it, so we close it
    throw e;
  }
}

/**
 * A validated safetensors file: lists its tensors and reads one tensor (or a chunk of one) at a
 * time. Make one with `openSafetensors()`; `close()` it when done.
 */
export class SafetensorsReader {
  private readonly byName: ReadonlyMap<string, SafetensorsEntry>;

  /** @internal Use `openSafetensors()`. */
  constructor(
    private readonly source: ByteSource,
    /** Every tensor, in the order their data lies in the file. */
    readonly tensors: readonly SafetensorsEntry[],
    /** The header's `__metadata__` strings (empty when absent). */
    readonly metadata: Readonly<Record<string, string>>,
    /** File offset of the data section (8 + header length). */
    readonly dataStart: number,
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  /** Name of the file or source, as error messages print it. */
  get where(): string {
    return this.source.name ?? 'safetensors source';
  }

  get names(): string[] {
    return this.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The entry of tensor `name`; throws `SafetensorsError` if there is none. */
  get(name: string): SafetensorsEntry {
    const entry = this.byName.get(name);
    if (!entry) throw new SafetensorsError(`${this.where}: no tensor named ${JSON.stringify(name)} (the file has ${this.tensors.length})`);
    return entry;
  }

  /**
   * Reads tensor `name`'s raw little-endian bytes (or the byte `range` of them) into a new buffer.
   * For tensors too big for one buffer, use `chunks()`.
   */
  async read(name: string, range?: ByteRange): Promise<Uint8Array> {
    const entry = this.get(name);
    const { begin, end } = range ?? { begin: 0, end: entry.byteLength };
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || begin > end || end > entry.byteLength) {
      throw new RangeError(`${this.where}: byte range [${begin}, ${end}) is outside tensor ${JSON.stringify(name)} (${entry.byteLength} bytes)`);
    }
    return readExactly(this.source, this.dataStart + entry.dataOffsets[0] + begin, end - begin, this.where);
  }

  /**
   * Streams tensor `name` (or the byte `range` of it) in chunks of at most `chunkBytes`, each
   * holding whole elements. Yields each chunk's byte offset within the tensor and its bytes.
   */
  async *chunks(
    name: string,
    { chunkBytes = DEFAULT_CHUNK_BYTES, range }: { chunkBytes?: number; range?: ByteRange } = {},
  ): AsyncGenerator<{ offset: number; bytes: Uint8Array }> {
    const entry = this.get(name);
    const { begin, end } = range ?? { begin: 0, end: entry.byteLength };
    const element = FILE_DTYPE_BYTES[entry.dtype];
    if (!(chunkBytes > 0)) throw new RangeError(`chunks: chunkBytes must be positive, got ${chunkBytes}`);
    const step = Math.max(element, chunkBytes - (chunkBytes % element));
    for (let offset = begin; offset < end; offset += step) {
      yield { offset, bytes: await this.read(name, { begin: offset, end: Math.min(end, offset + step) }) };
    }
  }

  /** Closes the underlying source (a file handle). */
  async close(): Promise<void> {
    await this.source.close?.();
  }
}

function isBlob(source: ByteSource | Blob): source is Blob {
  return typeof Blob !== 'undefined' && source instanceof Blob; // no global Blob: only ByteSources
}

async function readExactly(source: ByteSource, offset: number, length: number, where: string): Promise<Uint8Array> {
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw new SafetensorsError(
      `${where}: reading bytes [${offset}, ${offset + length}) returned ${bytes.length}; the file is truncated or changed after opening`,
    );
  }
  return bytes;
}
