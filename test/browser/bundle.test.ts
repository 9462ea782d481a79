// The browser bundle (packages/web/dist, built by npm test / npm run build:web): no Node built-in
// or Node-only package is reachable from it, and every WGSL kernel is inlined.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Metafile } from 'esbuild';
import { nodeInputs } from '../../packages/web/build.ts';
import { DIST } from './harness.ts';

const SHADERS = new URL('../../shaders/', import.meta.url);

describe.skipIf(!existsSync(`${DIST}meta.json`) && !process.env.CI)('the browser bundle', () => {
  const meta = () => JSON.parse(readFileSync(`${DIST}meta.json`, 'utf8')) as Metafile;

  it('reaches no Node built-in, pngjs or webgpu (Dawn)', () => {
    expect(nodeInputs(meta())).toEqual([]);
    const js = readdirSync(DIST).filter((f) => f.endsWith('.js')).map((f) => readFileSync(DIST + f, 'utf8')).join('\n');
    expect(js).not.toMatch(/\bfrom\s*["']node:|\brequire\(["']/);
  });

  it('inlines every shaders/*.wgsl', () => {
    const js = readdirSync(DIST).filter((f) => f.endsWith('.js')).map((f) => readFileSync(DIST + f, 'utf8')).join('\n');
    const names = readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5));
    expect(names.length).toBeGreaterThan(10);
    // The sources object's keys, quoted or not as the bundler prints them.
    for (const name of names) expect(js, name).toMatch(new RegExp(`["']?\\b${name}["']?:\\s*["'\`]`));
  });
});
