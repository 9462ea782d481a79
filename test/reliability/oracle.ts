// An independent reading of the safetensors format, for the fuzz test: written from the format's
// description, not from the library's reader, so the two can be compared case by case.

/** Bytes per element of each dtype the format defines. */
const SIZES: Record<string, number> = { BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8 };

/** One tensor as the oracle reads it. */
export interface OracleEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** The oracle's verdict: why the file is invalid, or its tensors and where its data starts. */
export type OracleVerdict = { valid: false; why: string } | { valid: true; entries: OracleEntry[]; dataStart: number };

/** Reads a file of `size` bytes, whose byte ranges `read` gives, as the format describes; never throws. */
export function oracleRead(size: number, read: (offset: number, length: number) => Uint8Array): OracleVerdict {
  const bad = (why: string): OracleVerdict => ({ valid: false, why });
  if (size < 8) return bad('shorter than the length prefix');
  const n = Buffer.from(read(0, 8)).readBigUInt64LE(0);
  if (n > BigInt(size - 8)) return bad('header length beyond the file');
  const headerBytes = Buffer.from(read(8, Number(n)));
  const text = headerBytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(headerBytes)) return bad('header is not UTF-8'); // lossy decode changed it
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return bad('header is not JSON');
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return bad('header is not an object');
  const record = root as Record<string, unknown>;
  const names = Object.keys(record).filter((k) => k !== '__metadata__');
  // JSON.parse keeps one of two equal keys; every entry has exactly one of each field, so a
  // repeated name or field shows as more field names in the text than entries parsed.
  for (const field of ['"dtype"', '"shape"', '"data_offsets"']) {
    if (text.split(field).length - 1 !== names.length) return bad(`${field} appears more often than there are entries (a duplicate name or field)`);
  }
  if (text.split('"__metadata__"').length - 1 > ('__metadata__' in record ? 1 : 0)) return bad('__metadata__ twice');
  const meta = record.__metadata__;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta) || Object.values(meta).some((v) => typeof v !== 'string')) return bad('metadata not an object of strings');
  }
  const entries: OracleEntry[] = [];
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  for (const name of names) {
    const e = record[name] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return bad(`${name}: entry not an object`);
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string' || !(dtype in SIZES)) return bad(`${name}: dtype`);
    if (!Array.isArray(shape) || !shape.every(count)) return bad(`${name}: shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(count) || offsets[0] > offsets[1]) return bad(`${name}: offsets`);
    const bytes = shape.reduce((p: bigint, d: number) => p * BigInt(d), BigInt(SIZES[dtype]));
    if (bytes !== BigInt(offsets[1] - offsets[0])) return bad(`${name}: size`);
    entries.push({ name, dtype, shape, begin: offsets[0], end: offsets[1] });
  }
  const dataSize = size - 8 - Number(n);
  let at = 0;
  for (const e of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== at) return bad(e.begin < at ? 'overlap' : 'hole');
    at = e.end;
  }
  if (at !== dataSize) return bad('data section not covered exactly');
  return { valid: true, entries, dataStart: 8 + Number(n) };
}
