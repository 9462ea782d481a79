// Parsing and validating a safetensors header. The layout: an 8-byte little-endian u64 N, then N
// bytes of UTF-8 JSON mapping tensor names to { dtype, shape, data_offsets } (plus an optional
// "__metadata__" object of strings), then the data section the offsets index.

import { FILE_DTYPE_BYTES, isFileDType, type FileDType } from './dtypes.ts';
import { SafetensorsError } from './error.ts';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: FileDType;
  readonly shape: readonly number[];
  /** [begin, end) in bytes, relative to the first byte of the data section (after the header). */
  readonly dataOffsets: readonly [number, number];
  /** end − begin. */
  readonly byteLength: number;
}

/** A validated header: tensors in data-section order, and the string metadata. */
export interface SafetensorsHeader {
  readonly tensors: readonly SafetensorsEntry[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** Where a header sits in its file, for validation and messages. */
export interface HeaderPlace {
  /** The file's name (or a description of the source) for messages. */
  where: string;
  fileSize: number;
}

const METADATA_KEY = '__metadata__';

/**
 * Decodes the 8-byte length prefix and bounds it by the file size and `maxHeaderBytes` before
 * anything is allocated for the header. Lengths up to 2^64 − 1 are read exactly (BigInt).
 */
export function readHeaderLength(prefix: Uint8Array, maxHeaderBytes: number, { where, fileSize }: HeaderPlace): number {
  if (fileSize < 8) {
    throw new SafetensorsError(`${where}: file is ${fileSize} bytes, too short to hold the 8-byte header length`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new SafetensorsError(
      `${where}: header length ${n} bytes runs past the end of the file (${fileSize} bytes, so at most ${fileSize - 8} bytes of header); truncated or not a safetensors file`,
    );
  }
  if (n > BigInt(maxHeaderBytes)) {
    throw new SafetensorsError(`${where}: header length ${n} bytes exceeds the limit of ${maxHeaderBytes} bytes (option maxHeaderBytes)`);
  }
  return Number(n);
}

/** Parses and validates the header bytes (those after the 8-byte length). Throws `SafetensorsError`. */
export function parseHeader(bytes: Uint8Array, place: HeaderPlace): SafetensorsHeader {
  const { where, fileSize } = place;
  const dataSize = fileSize - 8 - bytes.length;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SafetensorsError(`${where}: header (${bytes.length} bytes at offset 8) is not valid UTF-8`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(root)) {
    throw new SafetensorsError(`${where}: header must be a JSON object mapping tensor names to entries, got ${kindOf(root)}`);
  }
  const dup = firstDuplicateKey(text);
  if (dup) {
    throw new SafetensorsError(
      dup.within === null
        ? `${where}: tensor name ${q(dup.key)} appears twice in the header`
        : `${where}: key ${q(dup.key)} appears twice in the entry of ${q(dup.within)}`,
    );
  }

  let metadata: Record<string, string> = {};
  const tensors: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(root)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value, where);
    else tensors.push(checkEntry(name, value, dataSize, place));
  }
  tensors.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  checkCoverage(tensors, dataSize, place);
  return { tensors, metadata };
}

function checkMetadata(value: unknown, where: string): Record<string, string> {
  if (value === null) return {};
  if (!isPlainObject(value)) throw new SafetensorsError(`${where}: "${METADATA_KEY}" must be an object of strings, got ${kindOf(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new SafetensorsError(`${where}: "${METADATA_KEY}" value of ${q(k)} must be a string, got ${kindOf(v)}`);
    }
  }
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function checkEntry(name: string, value: unknown, dataSize: number, { where, fileSize }: HeaderPlace): SafetensorsEntry {
  const at = `${where}: tensor ${q(name)}`;
  if (!isPlainObject(value)) throw new SafetensorsError(`${at}: entry must be an object, got ${kindOf(value)}`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (dtype === undefined) throw new SafetensorsError(`${at}: entry has no "dtype"`);
  if (!isFileDType(dtype)) {
    throw new SafetensorsError(`${at}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(FILE_DTYPE_BYTES).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(`${at}: shape ${JSON.stringify(shape)} must be a list of non-negative integers below 2^53`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new SafetensorsError(`${at}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers below 2^53`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new SafetensorsError(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataSize) {
    throw new SafetensorsError(
      `${at}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes; file ${fileSize} bytes); truncated file?`,
    );
  }
  // BigInt: a product of dimensions can exceed 2^53 even when each dimension is safe.
  const need = (shape as number[]).reduce((n, d) => n * BigInt(d), BigInt(FILE_DTYPE_BYTES[dtype]));
  if (need !== BigInt(end - begin)) {
    throw new SafetensorsError(
      `${at}: shape ${JSON.stringify(shape)} of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: Object.freeze([...(shape as number[])]), dataOffsets: [begin, end], byteLength: end - begin };
}

/** Tensors (sorted by offset) must tile the data section exactly: no overlaps, no holes, no trailing bytes. */
function checkCoverage(sorted: readonly SafetensorsEntry[], dataSize: number, { where }: HeaderPlace): void {
  let covered = 0;
  let prev: SafetensorsEntry | null = null;
  for (const t of sorted) {
    const [begin, end] = t.dataOffsets;
    if (prev && begin < covered) {
      throw new SafetensorsError(
        `${where}: tensors ${q(prev.name)} [${prev.dataOffsets.join(', ')}] and ${q(t.name)} [${begin}, ${end}] overlap in the data section`,
      );
    }
    if (begin > covered) {
      throw new SafetensorsError(
        `${where}: data bytes [${covered}, ${begin}) belong to no tensor (before ${q(t.name)}); the format forbids holes`,
      );
    }
    covered = end;
    prev = t;
  }
  if (covered !== dataSize) {
    throw new SafetensorsError(
      `${where}: the data section has ${dataSize} bytes but the tensors cover only ${covered}; ${dataSize - covered} trailing bytes belong to no tensor`,
    );
  }
}

/**
 * JSON.parse keeps the last of two equal keys silently; this scan of the (already valid) JSON text
 * finds the first key repeated within one object. `within` is the enclosing key (null at the top).
 */
function firstDuplicateKey(json: string): { key: string; within: string | null } | null {
  interface Frame {
    keys: Set<string> | null; // null for arrays
    name: string | null;
    expectKey: boolean;
    lastKey: string | null;
  }
  const frames: Frame[] = [];
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    const top = frames[frames.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string; // decodes escapes: "\u0061" equals "a"
        if (top.keys.has(key)) return { key, within: top.name };
        top.keys.add(key);
        top.expectKey = false;
        top.lastKey = key;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      frames.push({ keys: c === '{' ? new Set() : null, name: top?.lastKey ?? null, expectKey: c === '{', lastKey: null });
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',' && top?.keys) {
      top.expectKey = true;
    }
  }
  return null;
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function q(s: string): string {
  return JSON.stringify(s);
}
