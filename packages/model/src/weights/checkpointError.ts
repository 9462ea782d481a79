import { fmt } from '@unicontrol/core';

/** A key the model expects with another shape than the file's. */
export interface MisshapedKey {
  name: string;
  expected: readonly number[];
  got: readonly number[];
}

/** How a checkpoint's keys differ from what the model needs. */
export interface KeyReport {
  missing: string[];
  unexpected: string[];
  misshaped: MisshapedKey[];
  /** Keys whose file dtype cannot serve (e.g. an integer weight). */
  wrongDType: { name: string; expected: string; got: string }[];
}

/** True when the report lists no problem (unexpected keys count as problems only when strict). */
export function keyReportClean(r: KeyReport, strict: boolean): boolean {
  return r.missing.length === 0 && r.misshaped.length === 0 && r.wrongDType.length === 0 && (!strict || r.unexpected.length === 0);
}

/** Lines describing a report, grouped by model part so a wrong file reads as such at a glance. */
export function describeKeyReport(r: KeyReport, limit = 8): string[] {
  const lines: string[] = [];
  const list = (title: string, names: string[]): void => {
    if (names.length === 0) return;
    lines.push(`${names.length} ${title} (${groupCounts(names)}):`);
    for (const n of names.slice(0, limit)) lines.push(`  ${n}`);
    if (names.length > limit) lines.push(`  … and ${names.length - limit} more`);
  };
  list('missing keys', r.missing);
  list('unexpected keys', r.unexpected);
  if (r.misshaped.length > 0) {
    lines.push(`${r.misshaped.length} keys with the wrong shape:`);
    for (const m of r.misshaped.slice(0, limit)) lines.push(`  ${m.name}: expected ${fmt(m.expected)}, file has ${fmt(m.got)}`);
    if (r.misshaped.length > limit) lines.push(`  … and ${r.misshaped.length - limit} more`);
  }
  if (r.wrongDType.length > 0) {
    lines.push(`${r.wrongDType.length} keys with an unusable dtype:`);
    for (const m of r.wrongDType.slice(0, limit)) lines.push(`  ${m.name}: expected ${m.expected}, file has ${m.got}`);
  }
  return lines;
}

function groupCounts(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) {
    const head = n.includes('.') ? n.slice(0, n.indexOf('.') + 1) + '*' : n;
    counts.set(head, (counts.get(head) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k}: ${v}`).join(', ');
}

/** A checkpoint that is not a loadable UniControl model: names the file and every problem found. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    message: string,
    /** The key comparison, when the problem is the keys. */
    readonly report?: KeyReport,
  ) {
    super(message);
  }
}
