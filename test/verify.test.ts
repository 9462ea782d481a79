// `unicontrol verify` on the oracle's tiny fixture set: every case, in float32 and with the
// float16 weight file and storage; and proof that it catches a wrong model.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevice, openSafetensors, type Device } from '@unicontrol/core';
import { verifyFixtures, type VerifyReport } from '@unicontrol/unicontrol';

const TINY = fileURLToPath(new URL('../../shared/fixtures/tiny/', import.meta.url));
const HAVE_SHARED = existsSync(join(TINY, 'manifest.json')) && existsSync(join(TINY, 'golden.safetensors'));
const BIN = fileURLToPath(new URL('../packages/unicontrol/bin/unicontrol.js', import.meta.url));

if (process.env.CI && !HAVE_SHARED) throw new Error(`${TINY} is missing (CI is set, so the oracle tests fail rather than skip)`);

function summary(r: VerifyReport): string {
  return r.cases
    .filter((c) => c.status !== 'pass' && c.status !== 'not_runnable')
    .map((c) => `${c.name}: ${c.status} ${c.message ?? ''} ${c.rows.filter((x) => !x.pass).map((x) => `${x.tensor} ${x.maxError} > ${x.tolerance}`).join('; ')}`)
    .join('\n');
}

describe.skipIf(!HAVE_SHARED)('unicontrol verify on ../shared/fixtures/tiny', () => {
  let device: Device;
  beforeAll(async () => {
    device = await createDevice();
  });
  afterAll(() => device?.destroy());

  const manifest = () => JSON.parse(readFileSync(join(TINY, 'manifest.json'), 'utf8')) as { cases: { name: string; kind: string }[] };

  for (const [label, weights, dtype] of [
    ['float32 weights, f32 storage', 'model.safetensors', 'f32'],
    ['float16 weight file, f32 storage', 'model.f16.safetensors', 'f32'],
    ['float16 weight file, f16 storage', 'model.f16.safetensors', 'f16'],
  ] as const) {
    it(`passes every case: ${label}`, async () => {
      const report = await verifyFixtures(TINY, { device, weights, dtype });
      expect(summary(report)).toBe('');
      expect(report.ok).toBe(true);
      // Every case of the manifest ran (or is a documented not_runnable one).
      const cases = manifest().cases;
      expect(report.cases.map((c) => c.name)).toEqual(cases.map((c) => c.name));
      for (const c of report.cases) expect(c.status).toBe(cases.find((m) => m.name === c.name)?.kind === 'not_runnable' ? 'not_runnable' : 'pass');
      expect(report.cases.flatMap((c) => c.rows).length).toBeGreaterThan(100);
    });
  }

  it('fails a model whose weights are slightly wrong, naming the tensors that differ', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-bad-'));
    for (const f of ['manifest.json', 'golden.safetensors', 'model.f16.safetensors']) copyFileSync(join(TINY, f), join(dir, f));
    const bytes = readFileSync(join(TINY, 'model.safetensors'));
    const reader = await openSafetensors(join(TINY, 'model.safetensors'));
    const entry = reader.get('control_model.zero_convs.2.0.bias');
    await reader.close();
    // Add 0.01 to the first element of one zero-convolution's bias: only ControlNet output 2 changes.
    const at = reader.dataStart + entry.dataOffsets[0];
    bytes.writeFloatLE(bytes.readFloatLE(at) + 0.01, at);
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    const report = await verifyFixtures(dir, { device, cases: ['cn_v11.canny', 'unet_nocontrol'] });
    expect(report.ok).toBe(false);
    const cn = report.cases.find((c) => c.name === 'cn_v11.canny')!;
    expect(cn.status).toBe('fail');
    expect(cn.rows.filter((r) => !r.pass).map((r) => r.tensor)).toEqual(['cn_v11.canny.out.2']);
    expect(report.cases.find((c) => c.name === 'unet_nocontrol')!.status).toBe('pass');
  });

  it('the CLI prints a row per tensor and exits 0 on success, 1 on failure, 2 on a usage error', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'verify', ...args], { encoding: 'utf8', env: { ...process.env, CI: '' } });
    const ok = run(TINY, '--case', 'clip,vae_decode,ddim_guess_gradio');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok {3}clip\.last_hidden_state +max\|err\| +\S+ +tol 3\.60e-4/);
    expect(ok.stdout).toContain('NOT_RUNNABLE ddim_guess_gradio');
    expect(ok.stdout).toContain('PASS: 2 passed, 0 failed, 0 could not run, 1 not runnable');

    const missing = run(join(TINY, 'no-such-dir'));
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read .*manifest\.json/);

    const usage = run(TINY, '--dtype', 'f64');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('--dtype must be f32 or f16');

    const noVocab = run(TINY, '--case', 'tokenizer', '--vocab', join(TINY, 'manifest.json'));
    expect(noVocab.status).toBe(1);
    expect(noVocab.stdout).toMatch(/FAIL|CANNOT_RUN/);
  });
});
