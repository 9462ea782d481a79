// Shared by the reliability tests: where the oracle fixtures are, the CLI as a child process, and
// the checks every failure must pass (exit status, one line on stderr, no stack trace, no signal).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Device } from '@unicontrol/core';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const TINY_DIR = `${SHARED}fixtures/tiny/`;
export const TINY_MODEL = `${TINY_DIR}model.safetensors`;
export const VOCAB = `${SHARED}clip/bpe_simple_vocab_16e6.txt.gz`;
export const HAVE_SHARED = existsSync(TINY_MODEL) && existsSync(VOCAB) && existsSync(`${TINY_DIR}manifest.json`);
if (process.env.CI && !HAVE_SHARED) throw new Error(`${SHARED} is missing (CI is set, so the reliability tests fail rather than skip)`);

/** The tiny model's attention heads, which its shapes cannot reveal. */
export const TINY_SETTINGS = { unetHeads: 2, clipHeads: 2 } as const;

export const BIN = fileURLToPath(new URL('../../packages/unicontrol/bin/unicontrol.js', import.meta.url));

/** What a CLI run gave. */
export interface CliRun {
  args: string[];
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `unicontrol ...args` as a user would (node bin/unicontrol.js), killed after `timeoutMs`. */
export function cli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ args, status, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Runs `jobs` at most `width` at a time, keeping their order. */
export async function pooled<T>(jobs: (() => Promise<T>)[], width = 3): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

/** `generate`'s progress lines on a non-terminal stderr (`sampling [####....] 1/2  50% ETA 1s`). */
export const PROGRESS_LINE = /^sampling \[[#.]+\] \d+\/\d+ +\d+% ETA /;

/**
 * Checks a failed CLI run: an exit status in `statuses`, no signal, exactly one line on stderr
 * (besides progress lines, for a failure mid-sampling), no stack trace. Returns that line; throws
 * an Error saying what was wrong.
 */
export function cleanFailure(r: CliRun, statuses: readonly number[] = [1]): string {
  const lines = r.stderr.trimEnd().split('\n').filter((line) => !PROGRESS_LINE.test(line));
  const what = `unicontrol ${r.args.join(' ')}`;
  if (r.signal !== null) throw new Error(`${what}: killed by ${r.signal}`);
  if (r.status === null || !statuses.includes(r.status)) throw new Error(`${what}: exit status ${r.status}, wanted ${statuses.join(' or ')}; stderr: ${r.stderr}`);
  if (/^\s+at /m.test(r.stderr)) throw new Error(`${what}: stack trace on stderr: ${r.stderr}`);
  if (r.stderr.trim() === '' || lines.length !== 1) throw new Error(`${what}: ${lines.length} lines on stderr, wanted 1: ${r.stderr}`);
  return lines[0];
}

/** The adapter and runtime, for the page. */
export function environment(device?: Device): string {
  const adapter = device ? `${device.adapter.name} (${device.adapter.backend} backend)` : 'CPU only';
  return `${adapter}, Node ${process.versions.node}, ${process.platform}/${process.arch}`;
}

/** Throws `message` unless `cond`. */
export function ensure(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

/** Runs `fn`, which must reject; returns the error (throws if it resolved). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
  throw new Error('resolved, but an error was expected');
}

/**
 * Runs the CLI's `main()` in this process with stdout and stderr captured: the same code as the
 * command without the cost of starting Node twice (the child-process runs check the rest).
 */
export async function cliInProcess(args: string[]): Promise<CliRun> {
  const { main } = await import('@unicontrol/unicontrol');
  const out = { stdout: '', stderr: '' };
  const write = (key: 'stdout' | 'stderr') => (chunk: string | Uint8Array): boolean => {
    out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  const started = performance.now();
  process.stdout.write = write('stdout') as typeof process.stdout.write;
  process.stderr.write = write('stderr') as typeof process.stderr.write;
  let status: number;
  try {
    status = await main(args);
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
  return { args, status, signal: null, ...out, ms: performance.now() - started };
}
