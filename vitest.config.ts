import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Every test file talks to one software GPU; two cores gain nothing from running several at once.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A fresh CLI cache (autotune results) per run: tests neither read nor leave the user's.
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', UNICONTROL_CACHE: mkdtempSync(join(tmpdir(), 'unicontrol-cache-')) },
    // The JSON report lets .ci/run print the plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
