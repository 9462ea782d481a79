// The weights check `verify` and `generate` run before they create a device: a header read that
// refuses a file which is not a loadable UniControl checkpoint in one line, in milliseconds.

import { openSafetensors } from '@unicontrol/core';
import { CheckpointError, inspectCheckpoint, keyReportClean, type KeyReport, type UnrevealedConfig } from '@unicontrol/model';

/** Counts of a key report's problems, e.g. "2 keys missing, 1 key with the wrong shape". */
export function summarizeKeyReport(r: KeyReport): string {
  const counts: [number, string][] = [
    [r.missing.length, 'missing'],
    [r.unexpected.length, 'unexpected'],
    [r.misshaped.length, 'with the wrong shape'],
    [r.wrongDType.length, 'with an unusable dtype'],
  ];
  return counts
    .filter(([c]) => c > 0)
    .map(([c, what]) => `${c} ${c === 1 ? 'key' : 'keys'} ${what}`)
    .join(', ');
}

/**
 * Opens `path`'s safetensors header and compares its keys and shapes with the model they imply.
 * Throws `SafetensorsError` (malformed or truncated file) or `CheckpointError` (another model,
 * missing, unexpected or mis-shaped keys), each naming the file; returns when the file would load.
 */
export async function checkWeightsFile(path: string, settings: Partial<UnrevealedConfig> = {}): Promise<void> {
  const reader = await openSafetensors(path);
  try {
    const { report } = inspectCheckpoint(reader, settings);
    if (!keyReportClean(report, true)) {
      throw new CheckpointError(`${path} is not a loadable UniControl checkpoint: ${summarizeKeyReport(report)} (run 'unicontrol info ${path}' for the list)`, report);
    }
  } finally {
    await reader.close();
  }
}
