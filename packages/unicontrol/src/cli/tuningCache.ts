// The CLI keeps `Device.autotune`'s measurements between runs, so the step's kernel choices are
// timed once per adapter and shape, not on every `unicontrol generate` (on a software adapter the
// timing of a 512 px step's shapes takes minutes), and the quiet wait's calibration, so the first
// step sleeps instead of spinning the JS thread while the wait learns (on the 2-core lavapipe
// machine a 256 px f16 step took 12.75 s awaited at once, 7.3 s with a quiet wait).

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Device, TuningResult, WaitCalibration } from '@unicontrol/core';

/** `$UNICONTROL_CACHE` or `$XDG_CACHE_HOME/unicontrol` (default `~/.cache/unicontrol`), then `tuning.json`. */
export function tuningCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.UNICONTROL_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'unicontrol');
  return join(dir, 'tuning.json');
}

/** Measurements are only valid for the adapter and driver they were taken on. */
function adapterId(device: Device): string {
  const a = device.adapter;
  return [a.vendor, a.architecture, a.name, a.description, a.backend].join(' | ');
}

/** Per adapter (earlier files held the tuning array alone). */
interface AdapterEntry {
  tuning: TuningResult[];
  wait?: WaitCalibration;
}
type CacheFile = Record<string, AdapterEntry | TuningResult[]>;

function read(path: string): CacheFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as CacheFile) : {};
  } catch {
    return {}; // absent or unreadable: tune again (the file is only a cache)
  }
}

/** Gives `device` the choices and the wait calibration measured before on its adapter. */
export function loadTuning(device: Device, path = tuningCachePath()): void {
  const saved = read(path)[adapterId(device)];
  const entry = Array.isArray(saved) ? { tuning: saved } : saved;
  if (!entry || typeof entry !== 'object') return;
  for (const r of Array.isArray(entry.tuning) ? entry.tuning : []) {
    if (r && typeof r.key === 'string' && typeof r.chosen === 'string' && r.ms && typeof r.ms === 'object') device.tuning.record(r);
  }
  try {
    if (entry.wait !== undefined) device.waitCalibration = entry.wait;
  } catch {
    // a malformed calibration: the wait learns again
  }
}

/** Stores `device`'s choices and wait calibration for its adapter (atomically; other adapters' entries kept). */
export function saveTuning(device: Device, path = tuningCachePath()): void {
  const results = device.tuning.results();
  const wait = device.waitCalibration;
  if (results.length === 0 && wait.msPerCost === 0) return;
  const file = read(path);
  file[adapterId(device)] = { tuning: results, ...(wait.msPerCost > 0 ? { wait } : {}) };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 1)}\n`);
  renameSync(tmp, path);
}

/**
 * `saveTuning`, with a failure (an unwritable cache directory) reported as one line on stderr
 * instead of thrown: the cache only saves the next run some timing, and must not cost this run its
 * images.
 */
export function saveTuningOrWarn(device: Device, path = tuningCachePath()): void {
  try {
    saveTuning(device, path);
  } catch (e) {
    process.stderr.write(`warning: the kernel tuning cache was not saved to ${path} (${e instanceof Error ? e.message : String(e)}); the next run times the kernels again\n`);
  }
}
