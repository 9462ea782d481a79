import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Tuning, type Device, type TuningResult, type WaitCalibration } from '@unicontrol/core';
import { loadTuning, saveTuning, saveTuningOrWarn, tuningCachePath } from '../src/cli/tuningCache.ts';

/** Just what the cache reads of a device: its adapter, its tuning and its wait calibration. */
function fakeDevice(name: string): Device {
  let wait: WaitCalibration = { msPerCost: 0, longestBusyMs: 0 };
  return {
    adapter: { vendor: 'mesa', architecture: 'x86', name, description: 'test', backend: 'vulkan' },
    tuning: new Tuning(),
    get waitCalibration() {
      return wait;
    },
    set waitCalibration(c: WaitCalibration) {
      // As Device refuses a calibration that is not two finite numbers ≥ 0.
      if (!(c.msPerCost >= 0 && c.longestBusyMs >= 0)) throw new RangeError('bad calibration');
      wait = c;
    },
  } as unknown as Device;
}

const results: TuningResult[] = [
  { key: 'conv2d f32 x [2, 320, 32, 32] weight [320, 320, 3, 3] padding 1 bias', ms: { winograd: 31.2, implicit: 47.9 }, chosen: 'winograd' },
  { key: 'conv2d f16 x [2, 1280, 4, 4] weight [1280, 1280, 3, 3] padding 1 bias', ms: { winograd: 61.0, implicit: 27.5 }, chosen: 'implicit' },
];

describe('the CLI tuning cache', () => {
  it('keeps the choices per adapter between runs, and ignores a broken file', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tuning-')), 'sub', 'tuning.json');
    const a = fakeDevice('llvmpipe');
    for (const r of results) a.tuning.record(r);
    saveTuning(a, path);

    const again = fakeDevice('llvmpipe');
    loadTuning(again, path);
    expect(again.tuning.results()).toEqual(results);
    expect(again.tuning.choice(results[1].key)).toBe('implicit');

    const other = fakeDevice('SwiftShader');
    loadTuning(other, path);
    expect(other.tuning.results()).toEqual([]);
    other.tuning.record(results[0]);
    saveTuning(other, path);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8'))).length).toBe(2); // both adapters kept

    writeFileSync(path, '{ not json');
    const fresh = fakeDevice('llvmpipe');
    loadTuning(fresh, path);
    expect(fresh.tuning.results()).toEqual([]);
  });

  it('keeps the quiet wait calibration, reads the earlier array-only files, and ignores a malformed calibration', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tuning-')), 'tuning.json');
    const a = fakeDevice('llvmpipe');
    a.waitCalibration = { msPerCost: 1.5e-8, longestBusyMs: 7300 };
    saveTuning(a, path); // no tuning results: the calibration alone is worth keeping
    const again = fakeDevice('llvmpipe');
    loadTuning(again, path);
    expect(again.waitCalibration).toEqual({ msPerCost: 1.5e-8, longestBusyMs: 7300 });

    const id = Object.keys(JSON.parse(readFileSync(path, 'utf8')))[0];
    writeFileSync(path, JSON.stringify({ [id]: results }));
    const old = fakeDevice('llvmpipe');
    loadTuning(old, path);
    expect(old.tuning.results()).toEqual(results);
    expect(old.waitCalibration.msPerCost).toBe(0);

    writeFileSync(path, JSON.stringify({ [id]: { tuning: results, wait: { msPerCost: -1, longestBusyMs: 5 } } }));
    const bad = fakeDevice('llvmpipe');
    loadTuning(bad, path);
    expect(bad.tuning.results()).toEqual(results);
    expect(bad.waitCalibration.msPerCost).toBe(0);
  });

  it('saveTuningOrWarn reports an unwritable cache on one line instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
    writeFileSync(join(dir, 'file'), '');
    const a = fakeDevice('llvmpipe');
    for (const r of results) a.tuning.record(r);
    const path = join(dir, 'file', 'tuning.json'); // its folder is a file
    expect(() => saveTuning(a, path)).toThrow();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(() => saveTuningOrWarn(a, path)).not.toThrow();
      expect(stderr).toHaveBeenCalledOnce();
      expect(String(stderr.mock.calls[0][0])).toMatch(/^warning: the kernel tuning cache was not saved to .*file\/tuning\.json \(.+\); the next run times the kernels again\n$/);
    } finally {
      stderr.mockRestore();
    }
    saveTuningOrWarn(a, join(dir, 'ok', 'tuning.json'));
    const again = fakeDevice('llvmpipe');
    loadTuning(again, join(dir, 'ok', 'tuning.json'));
    expect(again.tuning.results()).toEqual(results);
  });

  it('lives in $UNICONTROL_CACHE, else $XDG_CACHE_HOME/unicontrol', () => {
    expect(tuningCachePath({ UNICONTROL_CACHE: '/c' })).toBe('/c/tuning.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: '/x' })).toBe('/x/unicontrol/tuning.json');
  });
});
