// Evidence for bench/RELIABILITY.md: each test file tallies its cases (tried, passed, the outcome
// of each) and figures, saves them as bench/reliability/<id>.json, and re-renders the page from
// every saved file, so the page always reflects the latest run of each file, in any order.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderReliability } from './render.ts';

export const EVIDENCE_DIR = fileURLToPath(new URL('../../bench/reliability/', import.meta.url));
export const PAGE = fileURLToPath(new URL('../../bench/RELIABILITY.md', import.meta.url));

/** One case's result: its group (a row of the table), a name, and the outcome in words. */
export interface CaseRecord {
  group: string;
  name: string;
  passed: boolean;
  /** The error the code under test gave (or what it did); for a failed case, what went wrong. */
  outcome: string;
}

/** What a test file saves. */
export interface Evidence {
  id: string;
  title: string;
  /** Position of the section on the page. */
  order: number;
  /** What a case must do to pass. */
  criterion: string;
  /** Groups in the order the table lists them, with a note each (what was varied). */
  groups: { name: string; note: string }[];
  cases: CaseRecord[];
  /** Measured numbers, by name (e.g. live GPU bytes after the 100th run). */
  figures: Record<string, string | number>;
  /** Names of the figures the page also shows under its summary table. */
  headline: string[];
  /** Adapter and runtime the cases ran on. */
  environment: string;
  date: string;
}

/** Collects one test file's cases; `check` runs a case and records it instead of throwing. */
export class Tally {
  private readonly evidence: Evidence;

  constructor(id: string, title: string, order: number, criterion: string) {
    this.evidence = { id, title, order, criterion, groups: [], cases: [], figures: {}, headline: [], environment: '', date: '' };
  }

  /** Declares a group (a table row) and what its cases vary. */
  group(name: string, note: string): void {
    if (!this.evidence.groups.some((g) => g.name === name)) this.evidence.groups.push({ name, note });
  }

  /**
   * Runs case `name` of `group`. `fn` returns the outcome in words (usually the error the code
   * under test gave) and throws when the behaviour is wrong; either way the case is recorded.
   */
  async check(group: string, name: string, fn: () => Promise<string> | string): Promise<void> {
    if (!this.evidence.groups.some((g) => g.name === group)) this.group(group, '');
    try {
      this.evidence.cases.push({ group, name, passed: true, outcome: clip(await fn()) });
    } catch (e) {
      this.evidence.cases.push({ group, name, passed: false, outcome: clip(e instanceof Error ? `${e.name}: ${e.message}` : String(e)) });
    }
  }

  /** Records a measured number; `headline` ones also show under the page's summary table. */
  figure(name: string, value: string | number, headline = false): void {
    this.evidence.figures[name] = value;
    if (headline && !this.evidence.headline.includes(name)) this.evidence.headline.push(name);
  }

  /** The failed cases of `group` (all groups when omitted), as "name: outcome" lines. */
  failures(group?: string): string[] {
    return this.evidence.cases.filter((c) => !c.passed && (group === undefined || c.group === group)).map((c) => `${c.name}: ${c.outcome}`);
  }

  count(group: string): number {
    return this.evidence.cases.filter((c) => c.group === group).length;
  }

  /** Writes bench/reliability/<id>.json and re-renders bench/RELIABILITY.md. */
  save(environment: string): void {
    this.evidence.environment = environment;
    this.evidence.date = new Date().toISOString().slice(0, 10);
    mkdirSync(EVIDENCE_DIR, { recursive: true });
    writeFileSync(`${EVIDENCE_DIR}${this.evidence.id}.json`, `${JSON.stringify(this.evidence, null, 1)}\n`);
    writeFileSync(PAGE, renderReliability(EVIDENCE_DIR));
  }
}

/** Outcomes are evidence, not logs: long messages keep their first 240 characters. */
function clip(text: string): string {
  return text.length > 240 ? `${text.slice(0, 239)}…` : text;
}
