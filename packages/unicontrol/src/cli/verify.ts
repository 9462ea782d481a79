import { join, resolve } from 'node:path';
import { createDevice } from '@unicontrol/core';
import { verifyFixtures, type CaseResult } from '../verify/verify.ts';
import { parseArgs, UsageError } from './args.ts';
import { checkWeightsFile } from './checkWeights.ts';

export const VERIFY_USAGE = `usage: unicontrol verify <fixture-dir> [--weights FILE] [--dtype f32|f16] [--vocab PATH] [--case NAME[,NAME…]] [--json]

Runs every case of an oracle fixture directory (manifest.json, weights, golden.safetensors) and
prints, per case and output tensor, the max |error|, the tolerance and pass/fail. Exits 1 on any
failure or any case it cannot run; cases the manifest marks not_runnable are listed as such.`;

/** `unicontrol verify`; returns the exit status. */
export async function verifyCommand(argv: readonly string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, { valued: ['weights', 'dtype', 'vocab', 'case'], boolean: ['json'] });
  if (positional.length !== 1) throw new UsageError('verify takes exactly one fixture directory');
  const dtype = flags.get('dtype') ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got ${String(dtype)}`);
  const json = flags.has('json');
  const weights = stringFlag(flags.get('weights'));
  // A file that cannot load would fail every case the same way: say so once, before any GPU work.
  // (A name without a '/' is looked up in the fixture directory, as verifyFixtures does.)
  if (weights !== undefined) await checkWeightsFile(weights.includes('/') ? resolve(weights) : join(positional[0], weights));
  const device = await createDevice();
  try {
    const report = await verifyFixtures(positional[0], {
      device,
      dtype,
      weights,
      vocab: stringFlag(flags.get('vocab')),
      cases: stringFlag(flags.get('case'))?.split(','),
      onCase: json ? undefined : (r) => process.stdout.write(formatCase(r)),
    });
    if (json) {
      process.stdout.write(`${JSON.stringify(report, (_, v: unknown) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
    } else {
      const counts = (s: CaseResult['status']): number => report.cases.filter((c) => c.status === s).length;
      process.stdout.write(
        `\n${report.ok ? 'PASS' : 'FAIL'}: ${counts('pass')} passed, ${counts('fail')} failed, ${counts('cannot_run')} could not run, ${counts('not_runnable')} not runnable (documented) — weights ${report.weights}, ${report.dtype} storage${report.precision.roundedWeights ? ', float16-rounded weights' : ''}\n`,
      );
    }
    return report.ok ? 0 : 1;
  } finally {
    device.destroy();
  }
}

function stringFlag(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function formatCase(r: CaseResult): string {
  const head = `${r.status.toUpperCase().padEnd(12)} ${r.name} (${r.kind}, ${r.seconds.toFixed(1)} s)${r.message ? `: ${r.message}` : ''}\n`;
  const rows = r.rows.map((row) => {
    const mark = row.pass ? 'ok  ' : 'FAIL';
    return `  ${mark} ${row.tensor.padEnd(44)} max|err| ${row.maxError.toExponential(2).padStart(9)}  tol ${row.tolerance.toExponential(2)}${row.note ? `  (${row.note})` : ''}\n`;
  });
  return head + rows.join('');
}
