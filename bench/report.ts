// The benchmark's table, as Markdown (readable in a terminal and pasted into RESULTS.md).

/** One measured case (one variant of our op). Times are per run, in milliseconds. */
export interface Row {
  op: string;
  variant?: string;
  shape: string;
  oursMs?: number;
  tfjsMs?: number;
  oursError?: string;
  tfjsError?: string;
  /** Repetitions per timed sample of our op. */
  reps?: number;
  /** Each side's counted samples, ms per repetition. */
  oursSamples?: number[];
  tfjsSamples?: number[];
  /** Our achieved GFLOP/s (compute-bound ops). */
  gflops?: number;
  /** Our achieved GB/s of minimal memory traffic (memory-bound ops). */
  gbps?: number;
  /** `gflops` over the adapter's FMA peak. */
  peakFraction?: number;
  /** Median over our samples of our GFLOP/s over the FMA probe's in the sample beside it. */
  pairedPeakFraction?: number;
  /** The lowest and highest of those per-pair ratios: how far one run's samples disagree. */
  pairedRange?: [number, number];
  /** The probe's GFLOP/s in those samples. */
  probeGflops?: number[];
  /** max |ours − tfjs| / max |tfjs| on the same inputs. */
  relDiff?: number;
}

function num(v: number | undefined, digits: number): string {
  return v === undefined ? '' : v.toFixed(digits);
}

function ms(v: number | undefined, error: string | undefined): string {
  if (v !== undefined) return v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0);
  return error ? 'failed' : '';
}

/** A Markdown table of the rows; failures are listed under it with their reasons. */
export function formatTable(rows: readonly Row[], withTfjs: boolean): string {
  const header = ['op', 'shape', 'ours ms'];
  if (withTfjs) header.push('tfjs ms', 'tfjs/ours');
  header.push('GFLOP/s', 'GB/s', '% FMA peak', 'paired', 'paired range');
  if (withTfjs) header.push('rel diff');
  const body = rows.map((r) => {
    const cells = [r.variant ? `${r.op} [${r.variant}]` : r.op, r.shape, ms(r.oursMs, r.oursError)];
    if (withTfjs) {
      const ratio = r.oursMs !== undefined && r.tfjsMs !== undefined ? `${(r.tfjsMs / r.oursMs).toFixed(2)}x` : '';
      cells.push(ms(r.tfjsMs, r.tfjsError), ratio);
    }
    const percent = (f: number | undefined) => (f === undefined ? '' : `${(100 * f).toFixed(1)}%`);
    const range = r.pairedRange ? `${(100 * r.pairedRange[0]).toFixed(0)}–${(100 * r.pairedRange[1]).toFixed(0)}%` : '';
    cells.push(num(r.gflops, 2), num(r.gbps, 2), percent(r.peakFraction), percent(r.pairedPeakFraction), range);
    if (withTfjs) cells.push(r.relDiff === undefined ? '' : r.relDiff.toExponential(1));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const out = [line(header), rule, ...body.map(line)];
  const failures = rows.flatMap((r) => {
    const name = `${r.op}${r.variant ? ` [${r.variant}]` : ''} ${r.shape}`;
    return [
      ...(r.oursError ? [`- ours failed on ${name}: ${r.oursError}`] : []),
      ...(r.tfjsError ? [`- tfjs failed on ${name}: ${r.tfjsError}`] : []),
    ];
  });
  if (failures.length) out.push('', ...failures);
  return out.join('\n');
}
