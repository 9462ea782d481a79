import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tuning, type Device, type TuningResult } from '@unicontrol/core';
import { loadTuning, saveTuning, tuningCachePath } from '../src/cli/tuningCache.ts';

/** Just what the cache reads of a device: its adapter and its tuning. */
function fakeDevice(name: string): Device {
  return { adapter: { vendor: 'mesa', architecture: 'x86', name, description: 'test', backend: 'vulkan' }, tuning: new Tuning() } as unknown as Device;
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

  it('lives in $UNICONTROL_CACHE, else $XDG_CACHE_HOME/unicontrol', () => {
    expect(tuningCachePath({ UNICONTROL_CACHE: '/c' })).toBe('/c/tuning.json');
    expect(tuningCachePath({ XDG_CACHE_HOME: '/x' })).toBe('/x/unicontrol/tuning.json');
  });
});
