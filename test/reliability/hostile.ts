// Hostile weight files made from the oracle's tiny checkpoint: truncations, absurd header lengths,
// broken headers, bad entries and offsets, duplicate names, other models, and key problems. Each
// names the error it must give (a pattern of the message: what is wrong and where).

import { assemble, writeSafetensors as writeTensors } from '../../packages/core/test/safetensors-writer.ts';
import { concatBytes } from '../../packages/unicontrol/src/image/concatBytes.ts';
import { randomBytes } from '../../packages/unicontrol/test/testImages.ts';

/** A tensor of a file being rewritten. */
export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** One hostile file: its table row, a name, its bytes, and the message pattern it must give. */
export interface HostileCase {
  group: string;
  name: string;
  bytes: Uint8Array;
  /** The error message must match (safetensors-level and checkpoint-level alike). */
  expect: RegExp;
}

const utf8 = new TextEncoder();

/** The tiny checkpoint split into its parts, with editors that keep everything else intact. */
export class SafetensorsParts {
  readonly headerLength: number;
  readonly headerText: string;
  readonly data: Uint8Array;

  constructor(readonly bytes: Uint8Array) {
    this.headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    this.headerText = new TextDecoder().decode(bytes.subarray(8, 8 + this.headerLength));
    this.data = bytes.subarray(8 + this.headerLength);
  }

  /** The header as an object (insertion order kept). */
  header(): Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } & Record<string, unknown>> {
    return JSON.parse(this.headerText);
  }

  /** A file with header bytes `header` (its real length in the prefix) and the original data. */
  withHeader(header: string | Uint8Array, data: Uint8Array = this.data): Uint8Array {
    return assemble(header, data);
  }

  /** The original file with its 8-byte length replaced by `n`. */
  withLength(n: bigint): Uint8Array {
    const out = this.bytes.slice();
    new DataView(out.buffer).setBigUint64(0, n, true);
    return out;
  }

  /** The original file with header bytes from offset `at` (within the header) replaced. */
  patchHeader(at: number, patch: Uint8Array | string): Uint8Array {
    const out = this.bytes.slice();
    out.set(typeof patch === 'string' ? utf8.encode(patch) : patch, 8 + at);
    return out;
  }

  /** A header of the same length: `text` padded with spaces (JSON allows trailing whitespace). */
  samePadded(text: string): Uint8Array {
    const t = utf8.encode(text);
    if (t.length > this.headerLength) throw new Error(`replacement header of ${t.length} bytes is longer than the original ${this.headerLength}`);
    const out = new Uint8Array(this.headerLength).fill(0x20);
    out.set(t);
    return this.withHeader(out);
  }

  /** The file with its header object edited (the data section unchanged). */
  editHeader(edit: (h: ReturnType<SafetensorsParts['header']>) => void): Uint8Array {
    const h = this.header();
    edit(h);
    return this.withHeader(JSON.stringify(h));
  }

  /** Every tensor with its bytes, in header order (no metadata). */
  tensors(): RawTensor[] {
    return Object.entries(this.header())
      .filter(([name]) => name !== '__metadata__')
      .map(([name, e]) => ({ name, dtype: e.dtype, shape: [...e.shape], bytes: this.data.subarray(e.data_offsets[0], e.data_offsets[1]) }));
  }
}

/** Writes tensors back to back into a valid safetensors file. */
export function writeSafetensors(tensors: readonly RawTensor[]): Uint8Array {
  return writeTensors(tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: t.bytes })));
}

/** Deterministic bytes (xorshift32), as the image tests make them. */
export const pseudoRandomBytes = randomBytes;

const PAST_FILE = /header length \d+ bytes runs past the end of the file/;
const PAST_DATA = /data_offsets \[\d+, \d+\] run past the end of the data section \(\d+ bytes; file \d+ bytes\); truncated file\?/;
const NOT_JSON = /header is not valid JSON/;
const NOT_UTF8 = /header \(\d+ bytes at offset 8\) is not valid UTF-8/;

/** Every hostile file, made from the tiny checkpoint's bytes (and a PNG for "not safetensors"). */
export function hostileCases(tiny: Uint8Array, png: Uint8Array): HostileCase[] {
  const p = new SafetensorsParts(tiny);
  const n = p.headerLength;
  const size = tiny.length;
  const dataSize = p.data.length;
  const cases: HostileCase[] = [];
  const add = (group: string, name: string, bytes: Uint8Array, expect: RegExp): void => void cases.push({ group, name, bytes, expect });

  // Truncated downloads: in the length, in the header, at its end, inside tensors, the last byte.
  const cut = (at: number): Uint8Array => tiny.subarray(0, at);
  add('truncated', 'empty file (0 bytes)', cut(0), /file is 0 bytes, too short to hold the 8-byte header length/);
  add('truncated', 'at byte 7, inside the length', cut(7), /file is 7 bytes, too short/);
  add('truncated', 'at byte 8, right after the length', cut(8), PAST_FILE);
  add('truncated', 'at byte 9, first header byte', cut(9), PAST_FILE);
  add('truncated', 'in the middle of the header', cut(8 + (n >> 1)), PAST_FILE);
  add('truncated', 'one byte before the header ends', cut(8 + n - 1), PAST_FILE);
  add('truncated', 'right after the header (no data)', cut(8 + n), PAST_DATA);
  add('truncated', 'inside the first tensor', cut(8 + n + 2), PAST_DATA);
  add('truncated', 'at a quarter of the data', cut(8 + n + (dataSize >> 2)), PAST_DATA);
  add('truncated', 'at half of the data', cut(8 + n + (dataSize >> 1)), PAST_DATA);
  add('truncated', 'inside the last tensor', cut(size - 5), PAST_DATA);
  add('truncated', 'the last byte missing', cut(size - 1), PAST_DATA);

  // Header lengths from one past the file up to 2^64 − 1 (read exactly, allocated never).
  for (const len of [BigInt(size - 7), 1n << 32n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n]) {
    add('header length absurd', `length ${len}`, p.withLength(len), new RegExp(`header length ${len} bytes runs past the end of the file \\(${size} bytes`));
  }
  add('header length absurd', 'length 0 (no header)', p.withLength(0n), NOT_JSON);
  add('header length absurd', 'length 10 bytes short', p.withLength(BigInt(n - 10)), NOT_JSON);
  add('header length absurd', 'length 16 bytes long (takes in data)', p.withLength(BigInt(n + 16)), /header is not valid (UTF-8|JSON)|not valid UTF-8/);

  // Headers that are not UTF-8, not JSON, or not a JSON object (same length, data intact).
  const key = p.headerText.indexOf('alphas_cumprod');
  add('header not UTF-8 / JSON / object', 'byte 0xFF inside a name', p.patchHeader(key, new Uint8Array([0xff])), NOT_UTF8);
  add('header not UTF-8 / JSON / object', 'overlong UTF-8 (C0 80)', p.patchHeader(key, new Uint8Array([0xc0, 0x80])), NOT_UTF8);
  add('header not UTF-8 / JSON / object', 'UTF-8 encoded surrogate (ED A0 80)', p.patchHeader(key, new Uint8Array([0xed, 0xa0, 0x80])), NOT_UTF8);
  add('header not UTF-8 / JSON / object', 'UTF-8 cut inside a character', p.patchHeader(key, new Uint8Array([0xe2, 0x82])), NOT_UTF8);
  add('header not UTF-8 / JSON / object', 'first brace replaced', p.patchHeader(0, 'x'), NOT_JSON);
  add('header not UTF-8 / JSON / object', 'a closing brace too many', p.patchHeader(n - 1, '}'), NOT_JSON);
  add('header not UTF-8 / JSON / object', 'all zero bytes', p.withHeader(new Uint8Array(n)), NOT_JSON);
  add('header not UTF-8 / JSON / object', 'a JSON array', p.samePadded('[1, 2, 3]'), /header must be a JSON object mapping tensor names to entries, got an array/);
  add('header not UTF-8 / JSON / object', 'a JSON string', p.samePadded('"weights"'), /must be a JSON object .*got string "weights"/);
  add('header not UTF-8 / JSON / object', 'JSON null', p.samePadded('null'), /must be a JSON object .*got null/);
  add('header not UTF-8 / JSON / object', 'a JSON number', p.samePadded('42'), /must be a JSON object .*got number 42/);

  // Entries: dtypes, shapes and sizes that disagree.
  const first = 'alphas_cumprod';
  add('entry: dtype / shape / size', 'unknown dtype "F128"', p.editHeader((h) => void (h[first].dtype = 'F128')), /tensor "alphas_cumprod": unknown dtype "F128" \(known: BOOL, U8/);
  add('entry: dtype / shape / size', 'dtype in lower case "f32"', p.editHeader((h) => void (h[first].dtype = 'f32')), /unknown dtype "f32"/);
  add('entry: dtype / shape / size', 'dtype missing', p.editHeader((h) => void delete (h[first] as Record<string, unknown>).dtype), /tensor "alphas_cumprod": entry has no "dtype"/);
  add('entry: dtype / shape / size', 'dtype a number', p.editHeader((h) => void (h[first].dtype = 4 as unknown as string)), /unknown dtype 4/);
  add('entry: dtype / shape / size', 'shape one element short of the bytes', p.editHeader((h) => void (h[first].shape = [999])), /shape \[999\] of F32 needs 3996 bytes but data_offsets \[0, 4000\] hold 4000/);
  add('entry: dtype / shape / size', 'F16 dtype on F32 bytes', p.editHeader((h) => void (h[first].dtype = 'F16')), /shape \[1000\] of F16 needs 2000 bytes but data_offsets \[0, 4000\] hold 4000/);
  add('entry: dtype / shape / size', 'shape whose product overflows 2^53', p.editHeader((h) => void (h[first].shape = [2 ** 26, 2 ** 26, 2 ** 26])), /shape \[67108864,67108864,67108864\] of F32 needs 1208925819614629174706176 bytes but data_offsets \[0, 4000\] hold 4000/);
  add('entry: dtype / shape / size', 'negative dimension', p.editHeader((h) => void (h[first].shape = [-1000])), /shape \[-1000\] must be a list of non-negative integers below 2\^53/);
  add('entry: dtype / shape / size', 'fractional dimension', p.editHeader((h) => void (h[first].shape = [1000.5])), /shape \[1000\.5\] must be a list of non-negative integers/);
  add('entry: dtype / shape / size', 'dimension as a string', p.editHeader((h) => void (h[first].shape = ['1000' as unknown as number])), /shape \["1000"\] must be a list/);
  add('entry: dtype / shape / size', 'entry not an object', p.editHeader((h) => void ((h as Record<string, unknown>)[first] = 7)), /tensor "alphas_cumprod": entry must be an object, got number 7/);

  // Offsets: overlapping, out of range, reversed, beyond 2^53, holes and trailing bytes.
  const second = 'alphas_cumprod_prev'; // data [4000, 8000], right after the first
  add('offsets', 'overlapping the previous tensor by 4 bytes', p.editHeader((h) => void (h[second].data_offsets = [3996, 7996])), /tensors "alphas_cumprod" \[0, 4000\] and "alphas_cumprod_prev" \[3996, 7996\] overlap in the data section/);
  add('offsets', 'two tensors on the same bytes', p.editHeader((h) => void (h[second].data_offsets = [0, 4000])), /overlap in the data section/);
  add('offsets', 'past the end of the data section', p.editHeader((h) => void (h[first].data_offsets = [dataSize, dataSize + 4000])), PAST_DATA);
  add('offsets', 'end before begin', p.editHeader((h) => void (h[first].data_offsets = [4000, 0])), /data_offsets \[4000, 0\] end before they begin/);
  add('offsets', 'negative begin', p.editHeader((h) => void (h[first].data_offsets = [-4000, 0])), /data_offsets \[-4000,0\] must be two non-negative integers below 2\^53/);
  add('offsets', 'begin at 2^53', p.editHeader((h) => void (h[first].data_offsets = [2 ** 53, 2 ** 53 + 4000])), /must be two non-negative integers below 2\^53/);
  add('offsets', 'three offsets', p.editHeader((h) => void (h[first].data_offsets = [0, 2000, 4000] as unknown as [number, number])), /data_offsets \[0,2000,4000\] must be two/);
  add('offsets', 'a hole between tensors', p.editHeader((h) => void (h[first].data_offsets = [0, 3996], h[first].shape = [999])), /data bytes \[3996, 4000\) belong to no tensor/);
  add('offsets', 'trailing bytes after the last tensor', concatBytes(tiny, new Uint8Array(4)), /4 trailing bytes belong to no tensor/);

  // Duplicate names: JSON.parse would keep the last silently.
  const dupEntry = `"${first}":${JSON.stringify(p.header()[first])},`;
  add('duplicate names', 'a tensor name twice', p.withHeader(`{${dupEntry}${p.headerText.slice(1)}`), /tensor name "alphas_cumprod" appears twice in the header/);
  add('duplicate names', 'the same name, once escaped (\\u0061)', p.withHeader(`{${dupEntry.replace('alphas', 'alph\\u0061s')}${p.headerText.slice(1)}`), /tensor name "alphas_cumprod" appears twice/);
  add('duplicate names', 'a key twice inside one entry', p.withHeader(p.headerText.replace('{"dtype":"F32",', '{"dtype":"F32","dtype":"F16",')), /key "dtype" appears twice in the entry of "alphas_cumprod"/);
  add('duplicate names', '__metadata__ twice', p.withHeader(`{"__metadata__":{},${p.headerText.slice(1)}`), /tensor name "__metadata__" appears twice/);

  // Valid safetensors files of other models, and files that are no safetensors at all.
  const ts = p.tensors();
  const only = (test: (name: string) => boolean): Uint8Array => writeSafetensors(ts.filter((t) => test(t.name)));
  add('another model', 'Stable Diffusion 1.5 (UNet, VAE, CLIP; no ControlNet)', only((k) => !k.startsWith('control_model.')), /missing key control_model\.input_blocks\.0\.0\.weight/);
  add('another model', 'SD 1.5 UNet alone', only((k) => k.startsWith('model.diffusion_model.')), /missing key control_model\.input_blocks\.0\.0\.weight/);
  add('another model', 'a ControlNet alone', only((k) => k.startsWith('control_model.')), /missing key model\.diffusion_model\.input_blocks\.0\.0\.weight/);
  add(
    'another model',
    'a plain ControlNet (one input_hint_block, no task adapters)',
    writeSafetensors(
      ts.filter((t) => !t.name.includes('input_hint_block_list_moe.') || t.name.includes('input_hint_block_list_moe.0.')).map((t) => ({ ...t, name: t.name.replace('input_hint_block_list_moe.0.', 'input_hint_block.') })),
    ),
    /missing key control_model\.input_hint_block_list_moe\.0\.0\.weight/,
  );
  add('another model', 'a random small safetensors (two tensors)', writeSafetensors([{ name: 'weight', dtype: 'F32', shape: [4, 4], bytes: pseudoRandomBytes(64, 7) }, { name: 'bias', dtype: 'F32', shape: [4], bytes: new Uint8Array(16) }]), /not a loadable UniControl checkpoint: missing key/);
  add('another model', 'an empty safetensors ({})', writeSafetensors([]), /not a loadable UniControl checkpoint: missing key/);
  add('another model', '1000 random bytes', pseudoRandomBytes(1000, 11), PAST_FILE);
  add('another model', 'a text file', utf8.encode('these are not the weights you are looking for\n'), PAST_FILE);
  add('another model', 'a PNG image', png, PAST_FILE);

  // Right layout, wrong keys: reported by name before any GPU work.
  const edit = (f: (t: RawTensor[]) => RawTensor[]): Uint8Array => writeSafetensors(f(ts.map((t) => ({ ...t, shape: [...t.shape] }))));
  const reshape = (name: string, shape: number[]) => (t: RawTensor[]): RawTensor[] => t.map((x) => (x.name === name ? { ...x, shape } : x));
  add('missing / mis-shaped keys', 'one key missing', edit((t) => t.filter((x) => x.name !== 'model.diffusion_model.out.2.bias')), /1 missing keys \(model\.\*: 1\):? ?\n?\s*model\.diffusion_model\.out\.2\.bias|1 key missing/);
  add('missing / mis-shaped keys', 'the VAE decoder missing', edit((t) => t.filter((x) => !x.name.startsWith('first_stage_model.decoder.'))), /missing key first_stage_model\.decoder\.conv_out\.weight, which the model's sizes are read from/);
  add('missing / mis-shaped keys', 'a schedule buffer missing', edit((t) => t.filter((x) => x.name !== 'alphas_cumprod')), /alphas_cumprod|1 key missing/);
  add('missing / mis-shaped keys', 'a weight reshaped, same byte count', edit(reshape('model.diffusion_model.out.2.weight', [4, 32, 9, 1])), /model\.diffusion_model\.out\.2\.weight: expected \[4, 32, 3, 3\], file has \[4, 32, 9, 1\]|1 key with the wrong shape/);
  add('missing / mis-shaped keys', 'a weight transposed', edit(reshape('control_model.task_id_hypernet.0.weight', [...(ts.find((t) => t.name === 'control_model.task_id_hypernet.0.weight')?.shape ?? [0, 0])].reverse())), /control_model\.task_id_hypernet\.0\.weight: expected \[\d+, \d+\], file has|1 key with the wrong shape/);
  add('missing / mis-shaped keys', 'a bias with an extra axis', edit(reshape('model.diffusion_model.out.2.bias', [4, 1])), /model\.diffusion_model\.out\.2\.bias: expected \[4\], file has \[4, 1\]|1 key with the wrong shape/);
  add('missing / mis-shaped keys', 'a schedule buffer of 999 steps', edit((t) => t.map((x) => (x.name === 'betas' ? { ...x, shape: [999], bytes: x.bytes.subarray(0, 3996) } : x))), /betas: expected \[1000\], file has \[999\]|1 key with the wrong shape/);
  add('missing / mis-shaped keys', 'an unexpected extra key', edit((t) => [...t, { name: 'model_ema.decay', dtype: 'F32', shape: [], bytes: new Uint8Array(4) }]), /unexpected keys \(model_ema\.\*: 1\)|1 key unexpected/);
  add('missing / mis-shaped keys', 'an integer dtype on a float weight', edit((t) => t.map((x) => (x.name === 'model.diffusion_model.out.2.bias' ? { ...x, dtype: 'I32' } : x))), /out\.2\.bias: expected a float type, file has I32|1 key with an unusable dtype/);
  add('missing / mis-shaped keys', 'U32 (which no GPU type holds) on a weight', edit((t) => t.map((x) => (x.name === 'model.diffusion_model.out.2.bias' ? { ...x, dtype: 'U32' } : x))), /file has U32|1 key with an unusable dtype/);
  return cases;
}
