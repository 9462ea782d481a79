import type { SafetensorsEntry } from '@unicontrol/core';
import type { KeyReport } from './checkpointError.ts';
import type { ExpectedKey } from './expectedKeys.ts';
import { POSITION_IDS } from './prefixes.ts';

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);
const INT_DTYPES = new Set(['I64', 'I32', 'I16', 'I8', 'U8']);
/** Keys a checkpoint may lack: newer `transformers` versions stopped saving CLIP's position ids. */
const OPTIONAL = new Set([POSITION_IDS]);

/** Compares a file's tensors with the keys a configuration expects. */
export function checkKeys(tensors: readonly SafetensorsEntry[], expected: ReadonlyMap<string, ExpectedKey>): KeyReport {
  const report: KeyReport = { missing: [], unexpected: [], misshaped: [], wrongDType: [] };
  const present = new Map(tensors.map((t) => [t.name, t]));
  for (const [name, want] of expected) {
    const got = present.get(name);
    if (!got) {
      if (!OPTIONAL.has(name)) report.missing.push(name);
      continue;
    }
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      report.misshaped.push({ name, expected: want.shape, got: got.shape });
    }
    const ok = want.kind === 'float' ? FLOAT_DTYPES.has(got.dtype) : INT_DTYPES.has(got.dtype);
    if (!ok) report.wrongDType.push({ name, expected: want.kind === 'float' ? 'a float type' : 'an integer type', got: got.dtype });
  }
  for (const t of tensors) if (!expected.has(t.name)) report.unexpected.push(t.name);
  return report;
}
